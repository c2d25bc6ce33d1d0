//go:build !nodashboard

package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/dashboard"
	"github.com/threefoldtech/hero_codescalers/host/mycelium"
	"github.com/threefoldtech/hero_codescalers/host/netlimit"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// dashComponent serves the dashboard for the host's lifetime: on
// admin.sock always, and over TCP on the node's mycelium address (or
// --address) when there is one.
type dashComponent struct {
	d       *dashboard.Dashboard
	folder  *rpc.RefusalFolder
	log     *slog.Logger
	info    api.DashboardInfo
	servers []dashServer
	once    sync.Once
}

type dashServer struct {
	name string
	srv  *http.Server
	ln   net.Listener
	lim  *netlimit.Limiter
	// tls, when set, is put over the limited listener: net/http then sees
	// a *tls.Conn, and a request its TLS state (the pages' HSTS header).
	tls *tls.Config
}

// Connection budgets of the dashboard's listeners (netlimit: near the cap
// the connections quiet longest are closed, so a flood cannot exhaust the
// host's files). admin.sock's is small, its callers are local admins; the
// live-update streams have their own cap inside the dashboard
// (dashboard.DefaultMaxStreams), so they cannot take all of either.
const (
	adminSockConns = 64
	tcpConns       = 0 // netlimit.DefaultMax, from the open-file limit
)

var _ Component = (*dashComponent)(nil)

// newDashboard takes the dashboard's listeners and builds it over svc.
// A bad --address, a TCP port in use or a certificate that does not load
// stop the host here, before it serves anything.
func newDashboard(ctx context.Context, cfg Config, svc *core.Service, mgr *plugins.Manager, policy *rpc.HostPolicy, met http.Handler, log *slog.Logger) (*dashComponent, error) {
	c := &dashComponent{log: log.With("component", "dashboard")}
	if err := c.listenUnix(cfg); err != nil {
		return nil, err
	}
	if err := c.listenTCP(ctx, cfg); err != nil {
		c.closeListeners()
		return nil, err
	}
	// Refused TCP peers are folded like rpc.sock's refused callers.
	c.folder = rpc.NewRefusalFolder(0, func(ev core.AuditEvent) {
		if _, err := svc.AuditRecord(context.Background(), ev); err != nil {
			c.log.Error("dashboard: cannot record an audit event", "method", ev.Method, "source", ev.Source, "err", err)
		}
	})
	dc := dashboard.Config{
		Service: svc, Policy: policy, Info: func() api.DashboardInfo { return c.info }, Refusals: c.folder,
		Open: cfg.Dashboard.Open, Version: api.Version, Started: time.Now(), Instance: cfg.Paths.Instance, Logger: log,
		Metrics: met,
	}
	if mgr != nil {
		dc.Plugins, dc.Approve = mgr.List, mgr.Approve
		chk := newSetupChecker("/", mgr.List, cfg.PluginDirs)
		dc.Setup = func(ctx context.Context) dashboard.SetupStatus {
			problems, fix := chk.Check(ctx)
			return dashboard.SetupStatus{Problems: problems, Fix: fix}
		}
	}
	d, err := dashboard.New(dc)
	if err != nil {
		c.closeListeners()
		return nil, err
	}
	c.d = d
	for i := range c.servers {
		s := &c.servers[i]
		h := d.Handler(dashboard.TCP)
		if s.name == "unix" {
			h = d.Handler(dashboard.Unix)
		}
		s.srv = dashHTTPServer(h, s.name == "unix", log)
		s.lim.Attach(s.srv)
		s.ln = s.lim.Listener(s.ln)
		if s.tls != nil {
			s.ln = tls.NewListener(s.ln, s.tls)
		}
	}
	c.announce(ctx, cfg, svc)
	return c, nil
}

// listenUnix takes admin.sock beside rpc.sock, with rpc.sock's mode.
func (c *dashComponent) listenUnix(cfg Config) error {
	mode := socketMode
	if cfg.SocketGroup != "" {
		mode = socketGroupMode
	}
	ln, err := listenUnixIn(cfg.Paths.SocketDir, "admin.sock", mode, cfg.SocketGroup)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	c.servers = append(c.servers, dashServer{name: "unix", ln: ln, lim: netlimit.New(adminSockConns, netlimit.Options{Name: "admin.sock", Logger: c.log})})
	c.info.Listeners = append(c.info.Listeners, api.Listener{Kind: "unix", Address: cfg.Paths.AdminSocket})
	return nil
}

// listenTCP finds the address (--address, else mycelium) and listens on
// it: plain HTTP on the overlay or loopback, HTTPS anywhere else. No
// address found means admin.sock only, which the note says.
func (c *dashComponent) listenTCP(ctx context.Context, cfg Config) error {
	addr, err := dashAddress(ctx, cfg)
	if err != nil {
		return err
	}
	if !addr.IsValid() {
		c.info.Note = "No mycelium address found (no mycelium daemon answered and no interface has an address in 400::/7): the dashboard is on admin.sock only. Give an address with --address or " + api.EnvAddress + "."
		return nil
	}
	ap := netip.AddrPortFrom(addr, uint16(cfg.Paths.Port))
	ln, err := net.Listen("tcp", ap.String())
	if err != nil {
		return fmt.Errorf("dashboard: listen on %s: %w", ap, err)
	}
	l := api.Listener{Kind: "http", Address: ap.String(), URL: "http://" + ap.String() + "/"}
	var tlsCfg *tls.Config
	if !mycelium.PlainHTTPOK(addr) {
		cert, fp, made, err := dashboardCert(cfg.Dashboard.TLSCert, cfg.Dashboard.TLSKey, cfg.Paths.VarDir, addr)
		if err != nil {
			ln.Close()
			return err
		}
		if made {
			c.log.Info("dashboard: generated a self-signed certificate", "address", addr, "sha256", fp, "dir", cfg.Paths.VarDir)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		l.Kind, l.URL, l.Fingerprint = "https", "https://"+ap.String()+"/", fp
	}
	c.servers = append(c.servers, dashServer{name: "tcp", ln: ln, tls: tlsCfg,
		lim: netlimit.New(tcpConns, netlimit.Options{Name: "dashboard " + ap.String(), Logger: c.log})})
	c.info.Listeners = append(c.info.Listeners, l)
	return nil
}

// dashAddress is --address (or HERO_CODESCALERS_ADDRESS), else the node's
// mycelium address; the zero Addr when there is none.
func dashAddress(ctx context.Context, cfg Config) (netip.Addr, error) {
	if cfg.Paths.Address != "" {
		a, err := mycelium.ParseAddress(cfg.Paths.Address)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("dashboard: %w", err)
		}
		return a, nil
	}
	detect := cfg.Dashboard.Detect
	if detect == nil {
		detect = func(ctx context.Context) (mycelium.Found, error) { return mycelium.Detect(ctx, mycelium.Options{}) }
	}
	f, err := detect(ctx)
	if errors.Is(err, mycelium.ErrNotFound) {
		return netip.Addr{}, nil
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("dashboard: find the mycelium address: %w", err)
	}
	return f.Addr, nil
}

// announce logs where the dashboard is and what an admin should know.
func (c *dashComponent) announce(ctx context.Context, cfg Config, svc *core.Service) {
	for _, l := range c.info.Listeners {
		c.log.Info("dashboard listening", "kind", l.Kind, "address", l.Address, "sha256", l.Fingerprint)
	}
	if c.info.Note != "" {
		c.log.Warn("dashboard: admin.sock only", "why", c.info.Note)
	}
	if cfg.Dashboard.Open {
		c.info.Open = true
		c.log.Warn("dashboard: --dashboard-open: every TCP peer that reaches the dashboard is an admin; whitelist addresses instead")
	}
	if len(c.servers) > 1 && !cfg.Dashboard.Open {
		list, err := svc.WhitelistGet(ctx)
		if err == nil {
			for _, w := range core.WhitelistWarnings(list) {
				c.log.Warn("dashboard: " + w)
			}
		}
	}
}

// dashHTTPServer is the http.Server of one listener: bounded header and
// body reads and writes (live streams lift their own write deadline), idle
// keep-alives closed after a minute, and on admin.sock the caller's
// credentials (SO_PEERCRED) on every request.
func dashHTTPServer(h http.Handler, unixSock bool, log *slog.Logger) *http.Server {
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if unixSock {
		s.ConnContext = rpc.ConnContext // reads SO_PEERCRED through netlimit's wrapper
	}
	return s
}

// Name is the component's name in logs.
func (c *dashComponent) Name() string { return "dashboard" }

// Info says where the dashboard listens, for health and status.
func (c *dashComponent) Info() *api.DashboardInfo {
	info := c.info
	return &info
}

// Run serves every listener until ctx ends or one fails, then shuts them
// down: live streams first, then in-flight requests within the grace.
func (c *dashComponent) Run(ctx context.Context, _ *core.Service) error {
	failed := make(chan error, len(c.servers))
	for _, s := range c.servers {
		go func() {
			if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("%s listener: %w", s.name, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	c.d.Close()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, s := range c.servers {
		if serr := s.srv.Shutdown(shut); serr != nil {
			s.srv.Close()
		}
	}
	c.folder.Flush() // before the state closes: no count is lost
	c.closeListeners()
	return err
}

// closeListeners releases the listeners (and admin.sock) when the host
// stops, or fails before serving.
func (c *dashComponent) closeListeners() {
	c.once.Do(func() {
		for _, s := range c.servers {
			if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "closed") {
				c.log.Debug("dashboard: close listener", "name", s.name, "err", err)
			}
		}
	})
}
