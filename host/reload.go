package host

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/host/rpc"
	"github.com/threefoldtech/hero_codescalers/host/sdnotify"
)

// Live is what a reload (SIGHUP, systemctl reload) changes in a running
// host. The caller that re-read the config file applies what it owns
// itself (the log level); the host applies the admin group. Restart names
// the settings that changed but take effect only at the next start (the
// socket, the data dir, the plugins, the listeners).
type Live struct {
	AdminGroup string
	Restart    []string
}

// watchReload re-reads the configuration on every SIGHUP until ctx ends.
// SIGHUP is always caught, even without cfg.Reload: its default action
// would end the host.
func watchReload(ctx context.Context, cfg Config, policy *rpc.HostPolicy, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload(cfg, policy, log)
			}
		}
	}()
}

// reload applies one re-read; a config that no longer validates changes
// nothing, and the host goes on with what it has.
func reload(cfg Config, policy *rpc.HostPolicy, log *slog.Logger) {
	_, _ = sdnotify.Reloading()
	defer func() { _, _ = sdnotify.Ready("serving") }()
	if cfg.Reload == nil {
		log.Info("reload: nothing to re-read (no config source)")
		return
	}
	live, err := cfg.Reload()
	if err != nil {
		log.Error("reload: the configuration does not validate; keeping the running one", "err", err)
		return
	}
	policy.SetAdminGroup(live.AdminGroup)
	log.Info("reload: configuration re-read", "admin_group", live.AdminGroup)
	if len(live.Restart) > 0 {
		log.Warn("reload: these settings changed and take effect at the next start", "settings", live.Restart)
	}
}
