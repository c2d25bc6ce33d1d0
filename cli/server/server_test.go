package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/cli"
	"github.com/threefoldtech/hero_codescalers/host"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
)

// result is one in-process run of the server's command line.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the command line in-process as hero_codescalers_server, with
// env as the whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(cli.Env{
		Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	}, New())
	return result{out.String(), errb.String(), code}
}

// shortDir is a temporary directory with a short path: sun_path holds 108
// bytes and t.TempDir() embeds the test name.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// fakeRun replaces host.Run for one test.
func fakeRun(t *testing.T, run func(context.Context, host.Config) error) {
	t.Helper()
	orig := hostRun
	hostRun = run
	t.Cleanup(func() { hostRun = orig })
}

// TestServeHandsOverConfigAndOwnsPIDFile: serve resolves the paths, passes
// the secret and groups, holds the pid file while the host runs, prints
// where it listens once ready, and removes the pid file afterwards.
func TestServeHandsOverConfigAndOwnsPIDFile(t *testing.T) {
	home := shortDir(t)
	var got host.Config
	var during string
	fakeRun(t, func(_ context.Context, cfg host.Config) error {
		got = cfg
		b, _ := os.ReadFile(cfg.Paths.PIDFile)
		during = strings.TrimSpace(string(b))
		r := runCLI(t, map[string]string{"HOME": home}, "--instance", "2", "serve")
		if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "already running, pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("a second serve: exit %d: %s", r.code, r.stderr)
		}
		cfg.Ready()
		return nil
	})
	env := map[string]string{"HOME": home, "SECRET_CODESCALERS": "s3cret"}
	r := runCLI(t, env, "--instance", "2", "serve", "--admin-group", "wheel", "--socket-group", "hero",
		"--plugin", "sessions=procfs", "--plugin-dir", "rel/plugins", "--no-plugins")
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got.Secret != "s3cret" || got.AdminGroup != "wheel" || got.SocketGroup != "hero" || got.Logger == nil {
		t.Fatalf("config %+v", got)
	}
	wd, _ := os.Getwd()
	if got.PluginPins["sessions"] != "procfs" || len(got.PluginDirs) != 1 || got.PluginDirs[0] != filepath.Join(wd, "rel/plugins") || !got.NoPlugins {
		t.Fatalf("plugin config: pins %v dirs %v no-plugins %v", got.PluginPins, got.PluginDirs, got.NoPlugins)
	}
	wantSock := filepath.Join(home, "hero/var/sockets/hero_codescalers_2/rpc.sock")
	if got.Paths.RPCSocket != wantSock || got.Paths.Port != 5002 {
		t.Fatalf("paths %+v", got.Paths)
	}
	if during != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file while serving: %q", during)
	}
	if _, err := os.Stat(got.Paths.PIDFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file left after serve: %v", err)
	}
	for _, want := range []string{"hero_codescalers_2 ready", "rpc:   " + wantSock, "hero_codescalers --instance 2 health"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("ready message lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestServeReportsHostFailure: a host that cannot start is exit 1 with its
// reason, and leaves no pid file.
func TestServeReportsHostFailure(t *testing.T) {
	home := shortDir(t)
	fakeRun(t, func(context.Context, host.Config) error { return errors.New("open state: locked by pid 7") })
	r := runCLI(t, map[string]string{"HOME": home}, "serve")
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "error: open state: locked by pid 7") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "hero/var/sockets/hero_codescalers/host.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file left: %v", err)
	}
}

// TestServeBadPinIsUsage: a --plugin that is not CONCERN=NAME is a usage
// error (exit 2), and the host is not run.
func TestServeBadPinIsUsage(t *testing.T) {
	fakeRun(t, func(context.Context, host.Config) error {
		t.Error("the host ran")
		return nil
	})
	r := runCLI(t, map[string]string{"HOME": shortDir(t)}, "serve", "--plugin", "nonsense")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "hero_codescalers: error: ") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// TestServeHandsOverLimits: the connection cap and the audit retention
// reach the host, from flags over the environment.
func TestServeHandsOverLimits(t *testing.T) {
	var got host.Config
	fakeRun(t, func(_ context.Context, cfg host.Config) error {
		got = cfg
		return nil
	})
	env := map[string]string{"HOME": shortDir(t), cli.EnvAuditMaxAge: "7d", cli.EnvAuditMaxRecords: "500"}
	r := runCLI(t, env, "serve", "--no-plugins", "--rpc-max-conns", "64", "--audit-max-records", "50")
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got.RPCMaxConns != 64 || got.Audit.MaxAge != 7*24*time.Hour || got.Audit.MaxRecords != 50 {
		t.Fatalf("limits %d %+v, want 64 and 168h, 50", got.RPCMaxConns, got.Audit)
	}
}

// TestCheckJSON: `plugin check --json` prints snake_case keys, each
// check's took_ms, and whether the plugin passed.
func TestCheckJSON(t *testing.T) {
	rep := &plugintest.Report{Binary: "/p", Results: []plugintest.Result{
		{Name: "handshake", Status: plugintest.Pass, Duration: 1500 * time.Microsecond},
		{Name: "probe", Status: plugintest.Fail, Reason: "no answer"},
	}}
	raw, err := json.Marshal(checkJSON{rep, rep.Passed()})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Binary  string `json:"binary"`
		Passed  *bool  `json:"passed"`
		Results []map[string]any
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Passed == nil || *got.Passed || got.Binary != "/p" || len(got.Results) != 2 {
		t.Fatalf("%s", raw)
	}
	if r := got.Results[0]; r["name"] != "handshake" || r["status"] != "pass" || r["took_ms"] != 1.5 {
		t.Errorf("first result: %s", raw)
	}
	if r := got.Results[1]; r["reason"] != "no answer" || r["status"] != "fail" {
		t.Errorf("second result: %s", raw)
	}
}
