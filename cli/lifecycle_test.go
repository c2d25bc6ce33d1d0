package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
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

// TestStatusSaysWhenNoLogIsWritten: status names the log file, and says
// when there is none (a host run in the foreground logs to its terminal).
func TestStatusSaysWhenNoLogIsWritten(t *testing.T) {
	for _, noLog := range []bool{false, true} {
		var b strings.Builder
		writeStatus(&b, statusReport{Running: true, Paths: api.Paths{LogFile: "/var/x/host.log"}, noLog: noLog}, pidState{})
		hinted := strings.Contains(b.String(), "/var/x/host.log (none yet:")
		if !strings.Contains(b.String(), "/var/x/host.log") || hinted != noLog {
			t.Errorf("noLog %v:\n%s", noLog, b.String())
		}
	}
}

// TestCommandFor: the hints name the CLI by its bare name only when $PATH
// finds that same program; else by its path from the working directory
// (bin/hero_codescalers after make run), or whole when it lies elsewhere.
func TestCommandFor(t *testing.T) {
	repo := t.TempDir()
	bin := filepath.Join(repo, "bin")
	os.MkdirAll(bin, 0o755)
	self := filepath.Join(bin, ServerName)
	cli := filepath.Join(bin, "hero_codescalers")
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "hero_codescalers"), []byte("#!/bin/sh\n"), 0o755)
	if got := commandFor(self, repo, bin); got != "hero_codescalers" {
		t.Errorf("no CLI beside the server: %q", got)
	}
	os.WriteFile(cli, []byte("#!/bin/sh\n"), 0o755)
	for _, tc := range []struct{ wd, path, want string }{
		{repo, "/usr/bin:" + bin, "hero_codescalers"},
		{repo, "relative/dir:/usr/bin", "bin/hero_codescalers"},
		{repo, other + ":" + bin, "bin/hero_codescalers"}, // $PATH finds another one first
		{bin, "", "./hero_codescalers"},
		{other, "", cli},
	} {
		if got := commandFor(self, tc.wd, tc.path); got != tc.want {
			t.Errorf("wd %s PATH %s: %q, want %q", tc.wd, tc.path, got, tc.want)
		}
	}
}
