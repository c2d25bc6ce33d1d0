package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/metrics"
	"github.com/threefoldtech/hero_codescalers/host/netlimit"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
	"github.com/threefoldtech/hero_codescalers/host/sdnotify"
	"github.com/threefoldtech/hero_codescalers/host/state"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// Component is a part of the host that runs beside the JSON-RPC API for
// the host's lifetime. The dashboard on admin.sock, the plugin manager and
// the fleet agent join here as they land, each on the same core.Service.
type Component interface {
	// Name identifies the component in logs and errors.
	Name() string
	// Run serves until ctx is done. An error stops the whole host, so a
	// half-working host never looks healthy.
	Run(ctx context.Context, svc *core.Service) error
}

// shutdownGrace bounds how long in-flight calls may finish after a stop.
const shutdownGrace = 5 * time.Second

// auditPruneEvery is how often the audit log is pruned to its retention.
const auditPruneEvery = time.Minute

// Run is the host daemon: it takes the socket, opens the state, serves the
// API (and the components) until ctx is done or SIGTERM/SIGINT arrives,
// then lets in-flight calls finish, closes the state and removes the
// socket. It refuses to start when another host serves the same socket.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Paths.RPCSocket == "" || cfg.Paths.SocketDir == "" || cfg.Paths.DataDir == "" {
		return errors.New("host: socket and data paths are required")
	}
	setMemoryLimit(log)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go sdk.ReleaseWhenIdle(ctx)

	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	defer removeSocket(cfg.Paths.RPCSocket, ln.fi, log)
	if err := checkDataDir(cfg); err != nil {
		ln.Close()
		return err
	}
	store, err := state.Open(state.Options{Dir: cfg.Paths.DataDir, Secret: cfg.Secret, Logger: log.With("component", "state")})
	if err != nil {
		ln.Close()
		return fmt.Errorf("open state in %s: %w", cfg.Paths.DataDir, err)
	}
	markDataDir(cfg, log)
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close state", "err", err)
		}
	}()
	mgr, err := startPlugins(cfg, store, log)
	if err != nil {
		ln.Close()
		return err
	}
	if mgr != nil {
		defer mgr.Close()
	}
	fl, err := newFleet(cfg, store, mgr, log)
	if err != nil {
		ln.Close()
		return err
	}
	svc := newService(cfg, store, mgr, fl, log)
	cfg.Components = append(cfg.Components, fl)
	if mgr != nil {
		recoverJournal(ctx, svc, mgr, log)
	}
	if err := adopt(ctx, cfg, svc, log); err != nil {
		ln.Close()
		return err
	}
	if err := seedWhitelist(ctx, cfg, svc, log); err != nil {
		ln.Close()
		return err
	}
	// One policy for rpc.sock and the dashboard's admin.sock: who is
	// privileged is decided once, the same way on both.
	policy := rpc.NewHostPolicy(os.Geteuid(), cfg.AdminGroup, log)
	met := newMetrics(cfg, svc, mgr, log)
	dash, err := newDashboard(ctx, cfg, svc, mgr, policy, met, log)
	if err != nil {
		ln.Close()
		return err
	}
	info := rpc.Info{Version: api.Version, Started: time.Now(), Instance: cfg.Paths.Instance}
	if dash != nil {
		defer dash.closeListeners()
		cfg.Components = append(slices.Clone(cfg.Components), dash)
		info.Dashboard = dash.Info
	}
	hs, err := newAPI(svc, mgr, policy, info, met, log)
	if err != nil {
		ln.Close()
		return err
	}
	watchReload(ctx, cfg, policy, log)
	return serve(ctx, cfg, svc, hs, ln, log)
}

// newMetrics reads the host's metrics from svc and the plugin manager.
func newMetrics(cfg Config, svc *core.Service, mgr *plugins.Manager, log *slog.Logger) *metrics.Metrics {
	src := metrics.Source{Service: svc, Version: api.Version, Instance: cfg.Paths.Instance, Started: time.Now(), Logger: log}
	if mgr != nil {
		src.Plugins = mgr.List
	}
	return metrics.New(src)
}

// seedWhitelist stores the config file's whitelist on a host that never
// had one.
func seedWhitelist(ctx context.Context, cfg Config, svc *core.Service, log *slog.Logger) error {
	if cfg.WhitelistSeed == nil {
		return nil
	}
	seeded, err := svc.WhitelistSeed(ctx, cfg.WhitelistSeed)
	if err != nil {
		return fmt.Errorf("whitelist of the config file: %w", err)
	}
	if seeded {
		log.Info("dashboard whitelist seeded from the config file", "addresses", cfg.WhitelistSeed)
	}
	return nil
}

// newAPI builds the JSON-RPC server over svc.
func newAPI(svc *core.Service, mgr *plugins.Manager, policy *rpc.HostPolicy, info rpc.Info, met *metrics.Metrics, log *slog.Logger) (*http.Server, error) {
	if mgr != nil {
		info.Plugins = mgr.List
		info.Approve = mgr.Approve
	}
	reg, err := rpc.Handlers(svc, info)
	if err != nil {
		return nil, err
	}
	srv, err := rpc.NewServer(rpc.Options{
		Handlers: reg,
		Policy:   policy,
		Auditor:  svc,
		Logger:   log,
		Observe:  met.ObserveRPC,
	})
	if err != nil {
		return nil, err
	}
	hs := rpc.NewHTTPServer(srv, log)
	hs.RegisterOnShutdown(srv.Flush)
	return hs, nil
}

// serve runs the API and the components until ctx is done or one of them
// fails, then shuts them down in order: the components, then the API with
// a grace period for in-flight calls.
func serve(ctx context.Context, cfg Config, svc *core.Service, hs *http.Server, ln *socket, log *slog.Logger) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	served := make(chan struct{})
	lim := netlimit.New(cfg.RPCMaxConns, netlimit.Options{Name: "rpc.sock", Logger: log})
	lim.Attach(hs)
	go func() {
		defer close(served)
		if err := hs.Serve(lim.Listener(ln)); !errors.Is(err, http.ErrServerClosed) {
			cancel(fmt.Errorf("rpc server: %w", err))
		}
	}()
	var wg sync.WaitGroup
	retain := core.AuditRetention{MaxAge: cfg.Audit.MaxAge, MaxRecords: cfg.Audit.MaxRecords}
	wg.Go(func() { svc.RunAuditRetention(runCtx, retain, auditPruneEvery) })
	for _, c := range cfg.Components {
		wg.Go(func() {
			if err := c.Run(runCtx, svc); err != nil && runCtx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", c.Name(), err))
			}
		})
	}
	log.Info("host serving", "version", api.Version, "instance", cfg.Paths.Instance,
		"rpc", cfg.Paths.RPCSocket, "max_conns", lim.Max(), "data", cfg.Paths.DataDir, "euid", os.Geteuid())
	if cfg.Ready != nil {
		cfg.Ready()
	}
	if sent, err := sdnotify.Ready("serving " + cfg.Paths.RPCSocket); err != nil {
		log.Warn("cannot tell systemd the host is ready", "err", err)
	} else if sent {
		log.Debug("told systemd: READY=1")
	}
	<-runCtx.Done()
	_, _ = sdnotify.Stopping()
	failure := context.Cause(runCtx)
	if ctx.Err() != nil {
		failure = nil
		log.Info("host stopping", "reason", context.Cause(ctx))
	} else {
		log.Error("host stopping", "err", failure)
	}
	wg.Wait()
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer done()
	if err := hs.Shutdown(shutCtx); err != nil {
		log.Warn("calls still running after the grace period; closing them", "err", err)
		hs.Close()
	}
	<-served
	return failure
}
