package server

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/cli"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host"
)

// TestServeFromConfigFileAsTheUnit: serve as the unit runs it (systemd's
// RuntimeDirectory= and StateDirectory= in the environment, the package's
// config file) lands on the system layout and takes every file setting;
// a reload re-reads the file: the admin group changes live, a changed
// home root is reported as needing a restart, and a file that no longer
// validates changes nothing.
func TestServeFromConfigFileAsTheUnit(t *testing.T) {
	root := shortDir(t)
	run, state := filepath.Join(root, "run", "hero_codescalers"), filepath.Join(root, "state")
	for _, d := range []string{run, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(root, "config.toml")
	write := func(text string) {
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("admin_group = \"hcadmin\"\nhome_root = \"/srv/home\"\nwhitelist = [\"400::/7\"]\nlog_format = \"json\"\n[plugins]\nsessions = \"procfs\"\n")
	var got host.Config
	var live host.Live
	var reloadErr, badErr error
	fakeRun(t, func(_ context.Context, cfg host.Config) error {
		got = cfg
		write("admin_group = \"ops\"\nhome_root = \"/data/home\"\nwhitelist = [\"400::/7\"]\nlog_format = \"json\"\n[plugins]\nsessions = \"procfs\"\n")
		live, reloadErr = cfg.Reload()
		write("admin_group = \"ops\"\nlog_level = \"loud\"\n")
		_, badErr = cfg.Reload()
		return nil
	})
	env := map[string]string{"HOME": root, "RUNTIME_DIRECTORY": run, "STATE_DIRECTORY": state, "HERO_CODESCALERS_CONFIG": conf}
	r := runCLI(t, env, "serve", "--no-plugins")
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	p := got.Paths
	if p.Layout != api.LayoutSystem || p.RPCSocket != filepath.Join(run, "rpc.sock") || p.DataDir != filepath.Join(state, "db") || p.LogFile != "" {
		t.Fatalf("paths %+v", p)
	}
	if got.AdminGroup != "hcadmin" || got.HomeRoot != "/srv/home" || got.PluginPins["sessions"] != "procfs" || !slices.Equal(got.WhitelistSeed, []string{"400::/7"}) {
		t.Fatalf("config %+v", got)
	}
	if reloadErr != nil || live.AdminGroup != "ops" || !slices.Contains(live.Restart, "home_root") {
		t.Fatalf("reload: %+v %v", live, reloadErr)
	}
	if badErr == nil || !strings.Contains(badErr.Error(), conf+":2: log_level") {
		t.Fatalf("a bad file on reload: %v", badErr)
	}
}
