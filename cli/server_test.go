package cli

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// fakeServer puts an executable hero_codescalers_server in a fresh
// directory and returns that directory.
func fakeServer(t *testing.T) string {
	t.Helper()
	dir := shortDir(t)
	if err := os.WriteFile(filepath.Join(dir, ServerName), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// execCall is what a hand-over asked execve for.
type execCall struct {
	path       string
	argv, envv []string
}

// recordExec replaces execve for one test; the exec "fails", so the
// command returns and the test sees what would have run.
func recordExec(t *testing.T) *[]execCall {
	t.Helper()
	var calls []execCall
	orig := execve
	execve = func(path string, argv, envv []string) error {
		calls = append(calls, execCall{path, argv, envv})
		return errors.New("recorded")
	}
	t.Cleanup(func() { execve = orig })
	return &calls
}

// TestHandOverToServer: without the server's code, serve, plugin check and
// setup driver exec hero_codescalers_server, found on $PATH, with the same
// arguments and the environment.
func TestHandOverToServer(t *testing.T) {
	dir := fakeServer(t)
	cases := [][]string{
		{"--instance", "2", "serve", "--no-plugins", "--plugin", "sessions=procfs"},
		{"plugin", "check", "/no/such/plugin", "--timeout", "3s"},
		{"--json", "serve"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, []string{"setup", "driver", "--user", "drv"})
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			calls := recordExec(t)
			r := runCLI(t, map[string]string{"PATH": "/nonexistent:" + dir, "SECRET_CODESCALERS": "s3cret"}, args...)
			want := filepath.Join(dir, ServerName)
			if r.code != ExitFailed || !strings.Contains(r.stderr, "error: run "+want+": recorded") {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if len(*calls) != 1 {
				t.Fatalf("%d execs", len(*calls))
			}
			c := (*calls)[0]
			if c.path != want || !slices.Equal(c.argv, append([]string{want}, args...)) {
				t.Fatalf("exec %s %q", c.path, c.argv)
			}
			if !slices.Contains(c.envv, "SECRET_CODESCALERS=s3cret") {
				t.Fatalf("environment not handed over: %q", c.envv)
			}
		})
	}
}

// TestHandOverMovesNATSURL: serve --nats-url hands the URL to the host in
// its environment, off the command line it keeps for its whole life.
func TestHandOverMovesNATSURL(t *testing.T) {
	dir := fakeServer(t)
	const url = "nats://hc:pw-s3cret@10.0.0.1:4222"
	for _, args := range [][]string{{"serve", "--nats-url", url, "--no-plugins"}, {"--nats-url=" + url, "serve"}} {
		calls := recordExec(t)
		runCLI(t, map[string]string{"PATH": dir, api.EnvNATSURL: "nats://old:1"}, args...)
		if len(*calls) != 1 {
			t.Fatalf("%v: %d execs", args, len(*calls))
		}
		c := (*calls)[0]
		if strings.Contains(strings.Join(c.argv, " "), "s3cret") || !slices.Contains(c.envv, api.EnvNATSURL+"="+url) ||
			slices.Contains(c.envv, api.EnvNATSURL+"=nats://old:1") || !slices.Contains(c.argv, "serve") {
			t.Errorf("%v: exec %q with %q", args, c.argv, c.envv)
		}
	}
}

// TestHandOverWithoutServer: a missing hero_codescalers_server is exit 1
// naming where it was looked for, for serve and for start alike; nothing
// is exec'd or started.
func TestHandOverWithoutServer(t *testing.T) {
	empty := shortDir(t)
	self, _ := os.Executable()
	for _, args := range [][]string{{"serve"}, {"--start"}, {"plugin", "check", "/x"}} {
		calls := recordExec(t)
		r := runCLI(t, map[string]string{"PATH": empty}, args...)
		want := ServerName + " not found in " + filepath.Dir(self) + " (beside " + filepath.Base(self) + ") nor on $PATH (" + empty + ")"
		if r.code != ExitFailed || !strings.Contains(r.stderr, want) {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		if len(*calls) != 0 {
			t.Fatalf("%v: exec'd %v", args, *calls)
		}
	}
}

// TestFindServer: beside this program first, then $PATH in order;
// relative $PATH entries and files nobody may run are passed over.
func TestFindServer(t *testing.T) {
	beside, onPath, later := fakeServer(t), fakeServer(t), fakeServer(t)
	notExec := shortDir(t)
	os.WriteFile(filepath.Join(notExec, ServerName), []byte("x"), 0o644)
	self := filepath.Join(beside, "hero_codescalers")
	wd, _ := os.Getwd()
	relOnPath, err := filepath.Rel(wd, onPath)
	if err != nil || filepath.IsAbs(relOnPath) {
		t.Fatalf("relative path to %s: %q, %v", onPath, relOnPath, err)
	}
	for _, tc := range []struct {
		name, self, path, want string
	}{
		{"beside wins", self, onPath, beside},
		{"first on PATH", "/nowhere/hero_codescalers", notExec + ":" + onPath + ":" + later, onPath},
		{"relative PATH skipped", "/nowhere/hero_codescalers", relOnPath + ":" + later, later},
		{"not found", "/nowhere/hero_codescalers", notExec, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findServer(tc.self, tc.path)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "not found in /nowhere (beside hero_codescalers) nor on $PATH ("+notExec+")") {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			if err != nil || got != filepath.Join(tc.want, ServerName) {
				t.Fatalf("got %q, %v; want in %s", got, err, tc.want)
			}
		})
	}
}
