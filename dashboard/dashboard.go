// Package dashboard is hero_codescalers' web dashboard: every admin task of
// the CLI in tabs (Overview, Users, Sessions, Groups, Fleet, Plugins,
// Admin, Audit), server-rendered with html/template, its few assets embedded, a
// little plain JavaScript for live updates over server-sent events.
//
// It imports only core and core/api: the host builds it with what it
// needs — the core.Service (the same use cases the JSON-RPC API calls), the
// privilege policy of rpc.sock, the plugin list and approval, the setup
// check and where it listens — and serves Handler(Unix) on admin.sock and
// Handler(TCP) on the node's mycelium address.
//
// Access: on admin.sock the caller is who SO_PEERCRED says, privileged by
// the same per-method rule as rpc.sock (api.Method.Allowed); over TCP the
// peer address (never a forwarded header) must be on the whitelist, and an
// admitted peer is an admin. An empty whitelist serves no data over TCP
// unless the host runs with --dashboard-open.
package dashboard

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// Policy decides who among Unix-socket callers is privileged: the host's
// rpc.HostPolicy (root, the host's uid, the admin group), the same object
// rpc.sock asks.
type Policy interface {
	Privileged(c core.Caller) bool
	// Requirement names who is privileged, for the Forbidden message.
	Requirement() string
}

// SetupStatus is the machine set-up check behind the Overview's yellow
// banner: what is missing (the driver's sudoers file, the plugins'
// policy, digests the sudoers file does not pin) and the command that
// fixes it.
type SetupStatus struct {
	Problems []string
	Fix      string
}

// Config is what the host hands the dashboard. Service, Policy and Info
// are required.
type Config struct {
	Service *core.Service
	Policy  Policy
	// Plugins lists the plugins the host runs; nil: none.
	Plugins func() []core.PluginInfo
	// Approve approves the binary now chosen for a concern; nil: no
	// plugin manager.
	Approve func(ctx context.Context, concern string) error
	// Setup checks the machine's set-up; nil: no banner.
	Setup func(ctx context.Context) SetupStatus
	// Info says where the dashboard listens.
	Info func() api.DashboardInfo
	// Open is --dashboard-open: every TCP peer is admitted, under a red
	// banner.
	Open     bool
	Version  string
	Started  time.Time
	Instance int
	// Refusals folds refused TCP requests into counted audit records; nil:
	// one record a minute per source (an IPv4 address or an IPv6 /64).
	Refusals RefusalFolder
	// MaxStreams bounds the live-update streams open at once, apart from
	// the listeners' connection cap; 0: DefaultMaxStreams.
	MaxStreams int
	// Poll is how often live updates look for changes; 0: 2s.
	Poll   time.Duration
	Logger *slog.Logger
	// Metrics serves GET /metrics (Prometheus text), behind the same
	// admission as every page: admin.sock's mode, the TCP whitelist; nil:
	// no /metrics.
	Metrics http.Handler
}

// DefaultMaxStreams bounds concurrent server-sent-event streams.
const DefaultMaxStreams = 16

// maxForm bounds a POSTed form, key uploads included.
const maxForm = 1 << 20

// Dashboard serves the pages. It is safe for concurrent use.
type Dashboard struct {
	// unixBudget bounds a non-admin's requests in flight on admin.sock.
	unixBudget core.CallerBudget
	cfg        Config
	svc        *core.Service
	log        *slog.Logger
	engine     *gin.Engine
	pages      map[string]*template.Template
	flash      *flashes
	hub        *hub
	cop        *http.CrossOriginProtection
}

// New builds the dashboard.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Service == nil || cfg.Policy == nil || cfg.Info == nil {
		return nil, errors.New("dashboard: Service, Policy and Info are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Refusals == nil {
		cfg.Refusals = newRefusalLimiter()
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{
		cfg: cfg, svc: cfg.Service, log: cfg.Logger.With("component", "dashboard"),
		pages: pages, flash: newFlashes(), cop: http.NewCrossOriginProtection(),
	}
	d.unixBudget.Max = unixInFlight
	d.hub = newHub(d, cfg.Poll, cfg.MaxStreams)
	d.engine = d.routes()
	return d, nil
}

// Transport says which listener a request came in on.
type Transport int

// The dashboard's transports.
const (
	// Unix is admin.sock: the caller's uid comes from SO_PEERCRED.
	Unix Transport = iota
	// TCP is the mycelium (or --address) listener: the whitelist decides.
	TCP
)

type transportKey struct{}

// Handler is the dashboard for one listener. The host serves Handler(Unix)
// on admin.sock (with rpc.ConnContext, so requests carry the caller) and
// Handler(TCP) on its TCP listener.
func (d *Dashboard) Handler(t Transport) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.engine.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), transportKey{}, t)))
	})
}

// Close ends the live-update streams, so a shutdown does not wait on them.
func (d *Dashboard) Close() { d.hub.close() }

func transportOf(r *http.Request) Transport {
	t, _ := r.Context().Value(transportKey{}).(Transport)
	return t
}

// routes is the route table: every GET only reads; every change is a POST
// behind the cross-origin check.
func (d *Dashboard) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// The client address is the TCP peer, never a header a proxy (or an
	// attacker) sets: gin trusts X-Forwarded-For by default.
	e.ForwardedByClientIP = false
	e.RemoteIPHeaders = nil
	_ = e.SetTrustedProxies(nil)
	e.HandleMethodNotAllowed = true
	e.MaxMultipartMemory = maxForm
	e.Use(d.recoverer, securityHeaders, d.checkHost, d.admit, d.crossOrigin)
	e.NoRoute(func(c *gin.Context) { d.failPage(c, http.StatusNotFound, "No such page.") })
	e.NoMethod(func(c *gin.Context) {
		d.failPage(c, http.StatusMethodNotAllowed, "This URL does not take "+c.Request.Method+".")
	})

	e.GET("/assets/:file", d.asset)
	e.GET("/events", d.events)
	e.GET("/", d.overview)
	d.userRoutes(e)
	e.GET("/sessions", d.sessions)
	e.POST("/sessions/kill", d.sessionKill)
	d.groupRoutes(e)
	e.GET("/fleet", d.fleet)
	e.GET("/plugins", d.plugins)
	e.POST("/plugins/:concern/approve", d.pluginApprove)
	e.GET("/admin", d.admin)
	e.POST("/admin/whitelist/add", d.whitelistAdd)
	e.POST("/admin/whitelist/remove", d.whitelistRemove)
	e.POST("/admin/whitelist/clear", d.whitelistClear)
	e.GET("/audit", d.audit)
	if d.cfg.Metrics != nil {
		e.GET("/metrics", gin.WrapH(d.cfg.Metrics))
	}
	return e
}

// recoverer turns a panicking handler into a 500 and a log line with the
// stack: one bad request must not take the host down.
func (d *Dashboard) recoverer(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			d.log.Error("dashboard: handler panicked", "path", c.Request.URL.Path, "panic", p, "stack", string(debug.Stack()))
			c.AbortWithStatus(http.StatusInternalServerError)
		}
	}()
	c.Next()
}
