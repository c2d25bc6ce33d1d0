package host

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/fleet"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
)

// readyWait bounds how long start-up waits for the plugins before it runs
// the journal's recovery; a plugin that is not ready by then is reported by
// plugin.list and retried, and recovery runs again at the next start.
const readyWait = 10 * time.Second

// startPlugins starts the plugin manager unless the host runs state-only.
func startPlugins(cfg Config, store core.Store, log *slog.Logger) (*plugins.Manager, error) {
	if cfg.NoPlugins {
		log.Info("plugins disabled: account methods answer PluginUnavailable")
		return nil, nil
	}
	home := cfg.HomeRoot
	if home == "" {
		home = core.DefaultHomeRoot
	}
	mgr, err := plugins.New(plugins.Options{
		Dirs:     plugins.DefaultDirs(cfg.PluginDirs...),
		Pins:     cfg.PluginPins,
		Store:    store,
		Logger:   log,
		HomeRoot: home,
		Env:      append([]string{"HERO_CODESCALERS_PLUGIN_HOME_ROOT=" + home}, failpointEnv()...),
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.Start(); err != nil {
		return nil, err
	}
	return mgr, nil
}

// newService builds the use cases over the state, the fleet and, when
// running, the plugins.
func newService(cfg Config, store core.Store, mgr *plugins.Manager, fl *fleet.Fleet, log *slog.Logger) *core.Service {
	opts := []core.Option{core.WithLogger(log), core.WithUserConfig(userConfig(cfg, log)), core.WithFleet(fl)}
	if mgr != nil {
		opts = append(opts, core.WithPlugins(mgr))
	}
	return core.NewService(store, opts...)
}

// recoverJournal finishes or rolls back what a previous run left
// unfinished, before the API serves, so no call sees a half-made user. An
// entry that cannot be recovered yet (a plugin still starting on a loaded
// machine) is retried by the service's recovery loop, which also takes the
// rollbacks that fail at run time.
func recoverJournal(ctx context.Context, svc *core.Service, mgr *plugins.Manager, log *slog.Logger) {
	wctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	if err := mgr.WaitReady(wctx); err != nil {
		log.Warn("plugins not all ready at start-up", "err", err)
	}
	go svc.ReapplyLimits(ctx)
	if err := svc.EnsureMarkerGroup(ctx); err != nil {
		log.Warn("marker group not ensured at start-up; user.create will retry", "err", err)
	}
	go svc.RunRecovery(ctx)
	if !svc.RecoverPass(ctx) {
		svc.KickRecovery()
	}
}

// newFleet prepares the fleet component: it reads the node's id, name and
// membership and starts nothing; outside a fleet it stays idle (no NATS,
// no port) until fleet-init or fleet-join.
func newFleet(cfg Config, store core.Store, mgr *plugins.Manager, log *slog.Logger) (*fleet.Fleet, error) {
	opts := fleet.Options{Store: store, DataDir: cfg.Paths.DataDir, Instance: cfg.Paths.Instance,
		NodeName: cfg.NodeName, Address: cfg.Paths.Address, NATSURL: cfg.NATSURL, Version: api.Version, Log: log}
	if mgr != nil {
		opts.Plugins = mgr.List
	}
	fl, err := fleet.New(opts)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return fl, nil
}
