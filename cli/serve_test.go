package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/host"
)

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
	var during pidState
	fakeRun(t, func(_ context.Context, cfg host.Config) error {
		got = cfg
		during, _ = probePID(cfg.Paths.PIDFile)
		r := runCLI(t, map[string]string{"HOME": home}, "--instance", "2", "serve")
		if r.code != ExitFailed || !strings.Contains(r.stderr, "already running, pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("a second serve: exit %d: %s", r.code, r.stderr)
		}
		cfg.Ready()
		return nil
	})
	env := map[string]string{"HOME": home, "SECRET_CODESCALERS": "s3cret"}
	r := runCLI(t, env, "--instance", "2", "serve", "--admin-group", "wheel", "--socket-group", "hero")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got.Secret != "s3cret" || got.AdminGroup != "wheel" || got.SocketGroup != "hero" || got.Logger == nil {
		t.Fatalf("config %+v", got)
	}
	wantSock := filepath.Join(home, "hero/var/sockets/hero_codescalers_2/rpc.sock")
	if got.Paths.RPCSocket != wantSock || got.Paths.Port != 5002 {
		t.Fatalf("paths %+v", got.Paths)
	}
	if !during.live || during.pid != os.Getpid() {
		t.Fatalf("pid file while serving: %+v", during)
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
	if r.code != ExitFailed || !strings.Contains(r.stderr, "error: open state: locked by pid 7") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "hero/var/sockets/hero_codescalers/host.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file left: %v", err)
	}
}

// TestStatusAndStopWhenStopped: status of a stopped host is exit 3 and
// names the stale pid file; stop of a stopped host succeeds and cleans it.
func TestStatusAndStopWhenStopped(t *testing.T) {
	home := shortDir(t)
	env := map[string]string{"HOME": home}
	pidFile := filepath.Join(home, "hero/var/sockets/hero_codescalers/host.pid")
	os.MkdirAll(filepath.Dir(pidFile), 0o755)
	os.WriteFile(pidFile, []byte("99999999\n"), 0o644)

	r := runCLI(t, env, "--status")
	if r.code != ExitUnreachable || !strings.Contains(r.stdout, "stopped") || !strings.Contains(r.stdout, "stale, pid 99999999") {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, env, "stop")
	if r.code != ExitOK || !strings.Contains(r.stdout, "not running (removed stale pid file of pid 99999999)") {
		t.Fatalf("stop: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale pid file not removed")
	}
}

// TestStopRefusesForeignPID: a held pid file naming a process that is not
// our serve is never signalled.
func TestStopRefusesForeignPID(t *testing.T) {
	home := shortDir(t)
	pidFile := filepath.Join(home, "hero/var/sockets/hero_codescalers/host.pid")
	os.MkdirAll(filepath.Dir(pidFile), 0o755)
	l, err := lockPIDFile(pidFile, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	l.writePID(os.Getpid()) // the test binary: alive, but not `serve`
	r := runCLI(t, map[string]string{"HOME": home}, "--stop")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "not a hero_codescalers serve process; not signalling it") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}
