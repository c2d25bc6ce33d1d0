package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
