// Package server is the half of the command line that runs the host's own
// code: the host under serve (host.Run), the plugin conformance kit under
// plugin check (sdk/plugintest) and the machine set-up under setup driver
// (host/setup). It implements cli.Server, which the hero_codescalers_server
// binary passes to cli.Main; hero_codescalers leaves it out, and with it
// the host, Badger and go-plugin.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/threefoldtech/hero_codescalers/cli"
	"github.com/threefoldtech/hero_codescalers/host"
	"github.com/threefoldtech/hero_codescalers/host/logging"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
)

// hostRun is host.Run; tests replace it to see what serve hands over
// without running a host.
var hostRun = host.Run

// Server is the server's code for the command line.
type Server struct{}

var _ cli.Server = Server{}

// New returns the Server hero_codescalers_server passes to cli.Main.
func New() cli.Server { return Server{} }

// Serve runs the host until ctx ends.
func (Server) Serve(ctx context.Context, cfg cli.ServeConfig) error {
	hc, err := hostConfig(cfg)
	if err != nil {
		return err
	}
	return hostRun(ctx, hc)
}

// newLogger builds the host's logger from --log-level and --log-format;
// on the journal (stderr is $JOURNAL_STREAM) each line carries its
// priority. The level is a LevelVar, which a reload sets.
func newLogger(cfg cli.ServeConfig) (*slog.Logger, *slog.LevelVar, error) {
	lv := new(slog.LevelVar)
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, nil, cli.UsageError(err)
	}
	lv.Set(level)
	journal := false
	if f, ok := cfg.Log.(*os.File); ok {
		journal = logging.OnJournal(f, os.Getenv("JOURNAL_STREAM"))
	}
	return logging.New(cfg.Log, logging.Options{Level: lv, Format: cfg.LogFormat, Journal: journal}), lv, nil
}

// reloader turns the CLI's re-read into what the host applies: the log
// level here, the admin group there.
func reloader(cfg cli.ServeConfig, lv *slog.LevelVar) func() (host.Live, error) {
	if cfg.Reload == nil {
		return nil
	}
	return func() (host.Live, error) {
		next, restart, err := cfg.Reload()
		if err != nil {
			return host.Live{}, err
		}
		level, err := logging.ParseLevel(next.LogLevel)
		if err != nil {
			return host.Live{}, err
		}
		lv.Set(level)
		return host.Live{AdminGroup: next.AdminGroup, Restart: restart}, nil
	}
}

// hostConfig fills host.Config from what serve resolved; a bad --plugin
// pin is a usage error.
func hostConfig(cfg cli.ServeConfig) (host.Config, error) {
	pins, err := plugins.ParsePins(cfg.PluginPins)
	if err != nil {
		return host.Config{}, cli.UsageError(err)
	}
	log, lv, err := newLogger(cfg)
	if err != nil {
		return host.Config{}, err
	}
	return host.Config{
		Paths:       cfg.Paths,
		Secret:      cfg.Secret,
		AdminGroup:  cfg.AdminGroup,
		SocketGroup: cfg.SocketGroup,
		HomeRoot:    cfg.HomeRoot,
		PluginDirs:  cfg.PluginDirs,
		PluginPins:  pins,
		NoPlugins:   cfg.NoPlugins,
		RPCMaxConns: cfg.Limits.RPCMaxConns,
		Audit:       host.AuditRetention{MaxAge: cfg.Limits.AuditMaxAge, MaxRecords: cfg.Limits.AuditMaxRecords},
		Dashboard:   host.DashboardConfig{Open: cfg.DashboardOpen, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey},
		Adopt:       cfg.Adopt,
		MarkerDir:   cfg.MarkerDir,
		NodeName:    cfg.NodeName,
		NATSURL:     cfg.NATSURL,
		Logger:      log,
		Ready:       cfg.Ready,
		Reload:      reloader(cfg, lv),

		WhitelistSeed: cfg.WhitelistSeed,
	}, nil
}

// checkJSON is what `plugin check --json` prints: the kit's report and
// whether it passed, so a script need not count the failures itself.
type checkJSON struct {
	*plugintest.Report
	Passed bool `json:"passed"`
}

// CheckPlugin runs the conformance kit; the kit's own report, with
// passed, is what --json prints.
func (Server) CheckPlugin(ctx context.Context, req cli.PluginCheck) (cli.PluginReport, error) {
	rep, err := plugintest.Check(ctx, req.Path, plugintest.Options{
		ScratchDir: req.Scratch, Destructive: req.Destructive, Keep: req.Keep, Timeout: req.Timeout,
	})
	if err != nil {
		return cli.PluginReport{}, err
	}
	out := cli.PluginReport{
		Report: checkJSON{rep, rep.Passed()}, Name: rep.Info.Name, Version: rep.Info.Version, Binary: rep.Binary, Passed: rep.Passed(),
	}
	for _, r := range rep.Results {
		out.Results = append(out.Results, cli.CheckResult{Name: r.Name, Status: string(r.Status), Reason: r.Reason})
	}
	return out, nil
}

// SetupDriver creates the driver account, the sudoers rules for every
// plugin in the host's plugin dirs and the policy; with req.Check it
// reports whether they are in place instead.
func (Server) SetupDriver(_ context.Context, req cli.DriverSetup) error {
	opts := setup.Options{User: req.User, Home: req.Home, Dirs: plugins.DefaultDirs(req.PluginDirs...), Out: req.Out,
		Policy: setup.PolicySettings{HomeRoots: req.HomeRoots, MarkerGroup: req.MarkerGroup, Groups: req.AllowGroups, Rewrite: req.RewritePolicy}}
	if req.Check {
		if findings := setup.Check(opts); setup.Failed(findings) {
			return fmt.Errorf("%d finding(s) to fix, see above", setup.FailedCount(findings))
		}
		return nil
	}
	_, err := setup.Driver(opts)
	return err
}
