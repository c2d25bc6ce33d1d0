package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// e2e drives the real binary against real hosts, as a user would: built
// into a temp dir, with HOME and PATH_SOCKET in short temp dirs, so
// nothing touches the machine's own ~/hero.
type e2e struct {
	t    *testing.T
	bin  string
	home string
	env  []string
}

// binary builds hero_codescalers (as make does: without cgo) and, beside
// it, hero_codescalers_server, once for all the end-to-end tests, and
// returns the path of hero_codescalers.
var binary = sync.OnceValues(func() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "hcbin")
	if err != nil {
		return "", err
	}
	binDir = dir
	for _, b := range []struct{ name, env string }{{"hero_codescalers", "CGO_ENABLED=0"}, {ServerName, ""}} {
		cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, b.name), "./"+b.name)
		if cmd.Env = os.Environ(); b.env != "" {
			cmd.Env = append(cmd.Env, b.env)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", b.name, err, out)
		}
	}
	return filepath.Join(dir, "hero_codescalers"), nil
})

// binDir is where binary built, removed by TestMain.
var binDir string

func TestMain(m *testing.M) {
	// No in-process test may replace the test binary with a server found
	// on $PATH; the hand-over tests swap in their own recorder.
	execve = func(string, []string, []string) error { return errors.New("exec refused in tests") }
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func newE2E(t *testing.T) *e2e {
	if testing.Short() {
		t.Skip("builds the binary and runs hosts; skipped with -short")
	}
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	home := shortDir(t)
	env := []string{"HOME=" + home, "PATH_SOCKET=" + filepath.Join(home, "s"), "SECRET_CODESCALERS=e2e-test-secret"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "HOME" && k != "PATH_SOCKET" && !strings.HasPrefix(k, "HERO_CODESCALERS_") && k != "SECRET_CODESCALERS" {
			env = append(env, kv)
		}
	}
	return &e2e{t: t, bin: bin, home: home, env: env}
}

// run runs the binary and returns its output and exit code.
func (e *e2e) run(args ...string) result {
	e.t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// must runs and fails the test unless the exit code is want.
func (e *e2e) must(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, want, r.stdout, r.stderr)
	}
	return r
}

// start runs --start --json (state only: --no-plugins, so no test here can
// reach the machine's accounts) and registers a cleanup that stops the host
// by its pid even if the test fails half way.
func (e *e2e) start(args ...string) (pid int, paths map[string]any) {
	e.t.Helper()
	r := e.must(0, append(args, "--no-plugins", "--json", "--start")...)
	var out struct {
		PID   int            `json:"pid"`
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.PID == 0 {
		e.t.Fatalf("start output %q: %v", r.stdout, err)
	}
	e.t.Cleanup(func() { killServe(out.PID) })
	return out.PID, out.Paths
}

// killServe ends a host the test started, if it still runs: SIGTERM, a
// deadline, then SIGKILL. It checks the pid is still our serve first, so
// a reused pid is never signalled.
func killServe(pid int) {
	gone := func() (bool, error) { return !isServe(pid), nil }
	if done, _ := gone(); done {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if waitFor(context.Background(), 10*time.Second, gone) != nil && isServe(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestE2ELifecycle(t *testing.T) {
	e := newE2E(t)
	r := e.must(3, "--status")
	if !strings.Contains(r.stdout, "stopped") {
		t.Fatalf("status of nothing: %s", r.stdout)
	}
	r = e.must(3, "health")
	if !strings.Contains(r.stderr, "is it running? start it with: "+e.bin+" --start") {
		t.Fatalf("hint: %s", r.stderr)
	}

	pid0, paths0 := e.start()
	if r := e.must(0, "health"); !strings.Contains(r.stdout, "status:   ok") {
		t.Fatalf("health: %s", r.stdout)
	}
	if r := e.must(0, "rpc", "rpc.discover"); !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, `"openrpc"`) {
		t.Fatalf("rpc.discover: %s", r.stdout)
	}
	if r := e.must(0, "--status"); !strings.Contains(r.stdout, "running") || !strings.Contains(r.stdout, strconv.Itoa(pid0)) {
		t.Fatalf("status: %s", r.stdout)
	}
	if r := e.must(1, "--start"); !strings.Contains(r.stderr, "already running, pid "+strconv.Itoa(pid0)) {
		t.Fatalf("second start: %s", r.stderr)
	}

	pid1, paths1 := e.start("--instance", "1")
	for _, k := range []string{"rpc_socket", "data_dir", "pid_file", "log_file"} {
		if paths0[k] == paths1[k] {
			t.Fatalf("instances share %s: %v", k, paths0[k])
		}
	}
	e.must(0, "--instance", "1", "node-add", "only-on-1", "400::1")
	if r := e.must(0, "node-list"); strings.Contains(r.stdout, "only-on-1") {
		t.Fatalf("instance 0 sees instance 1's node:\n%s", r.stdout)
	}
	if r := e.must(0, "--instance", "1", "--json", "status"); !strings.Contains(r.stdout, `"pid": `+strconv.Itoa(pid1)) {
		t.Fatalf("instance 1 status: %s", r.stdout)
	}

	if r := e.must(0, "--stop"); !strings.Contains(r.stdout, "stopped hero_codescalers (pid "+strconv.Itoa(pid0)+")") {
		t.Fatalf("stop: %s", r.stdout)
	}
	e.must(3, "--status")
	e.must(0, "--instance", "1", "status") // instance 1 is untouched by instance 0's stop
	e.must(0, "--instance", "1", "stop")
	e.must(3, "--instance", "1", "--status")
	for _, p := range []map[string]any{paths0, paths1} {
		for _, k := range []string{"rpc_socket", "pid_file"} {
			if _, err := os.Stat(p[k].(string)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s left behind after stop: %v", p[k], err)
			}
		}
	}
}

// TestE2EStalePIDFile: a pid file left by a killed host — naming a pid
// that is now someone else's, the worst case — neither blocks start nor
// fools it.
func TestE2EStalePIDFile(t *testing.T) {
	e := newE2E(t)
	pidFile := filepath.Join(e.home, "s", "hero_codescalers", "host.pid")
	os.MkdirAll(filepath.Dir(pidFile), 0o755)
	os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	if r := e.must(3, "status"); !strings.Contains(r.stdout, "stale") {
		t.Fatalf("status: %s", r.stdout)
	}
	r := e.run("--no-plugins", "--json", "--start")
	if r.code != 0 || !strings.Contains(r.stderr, "removed stale pid file") {
		t.Fatalf("start over a stale pid file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out struct{ PID int }
	json.Unmarshal([]byte(r.stdout), &out)
	t.Cleanup(func() { killServe(out.PID) })
	if out.PID == os.Getpid() {
		t.Fatal("start reported the stale pid")
	}
	e.must(0, "stop")
}

// TestE2EConcurrentStarts: two starts racing for one instance: one host
// wins, the other start fails cleanly, and the winner is the one running.
func TestE2EConcurrentStarts(t *testing.T) {
	e := newE2E(t)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() { results[i] = e.run("--instance", "3", "--no-plugins", "--json", "--start") })
	}
	wg.Wait()
	var won []int
	for _, r := range results {
		var out struct{ PID int }
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && out.PID != 0 {
			won = append(won, out.PID)
			t.Cleanup(func() { killServe(out.PID) })
		} else if r.code != 1 || !strings.Contains(r.stderr, "already running") {
			t.Errorf("loser: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d starts succeeded, want 1: %+v", len(won), results)
	}
	if r := e.must(0, "--instance", "3", "--json", "status"); !strings.Contains(r.stdout, `"pid": `+strconv.Itoa(won[0])) {
		t.Fatalf("status names another pid: %s", r.stdout)
	}
	e.must(0, "--instance", "3", "--stop")
}

// TestE2EFailedStartShowsLog: a host that dies while starting makes start
// fail at once with the host's own words, not after the whole deadline.
func TestE2EFailedStartShowsLog(t *testing.T) {
	e := newE2E(t)
	begin := time.Now()
	r := e.must(1, "--instance", "4", "--data-dir", "/dev/null/db", "--start")
	if !strings.Contains(r.stderr, "the host exited") || !strings.Contains(r.stderr, "/dev/null/db") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if d := time.Since(begin); d > startTimeout {
		t.Fatalf("took %s: start waited for its deadline instead of seeing the exit", d)
	}
	e.must(3, "--instance", "4", "status")
}

// TestE2EUserCommandsReachTheHost: the user commands speak the real
// host's method names and params. A host without the OS plugins still
// answers the read-only calls from its state. The create uses a name the
// host must refuse (uppercase), so the test never makes an account on the
// machine whatever plugins the host runs; the refusal does
// not show the token. Both are bad names here: exit 2 (usage, the host's
// invalid params).
func TestE2EUserCommandsReachTheHost(t *testing.T) {
	e := newE2E(t)
	e.start("--instance", "5")
	if r := e.must(0, "--instance", "5", "--json", "user-list"); !strings.Contains(r.stdout, `"users": []`) {
		t.Fatalf("user-list: %s", r.stdout)
	}
	if r := e.must(2, "--instance", "5", "user-get", "nobody"); !strings.Contains(r.stderr, "nobody") {
		t.Fatalf("user-get: %s", r.stderr)
	}
	r := e.must(2, "--instance", "5", "user-create", "Alice", "--forge-token", "e2e-s3cret-token")
	if strings.Contains(r.stdout+r.stderr, "e2e-s3cret-token") {
		t.Fatalf("token printed: %s%s", r.stdout, r.stderr)
	}
	e.must(0, "--instance", "5", "stop")
}

// TestE2EServeHandsOver: `hero_codescalers serve` becomes
// hero_codescalers_server in the same process: the pid its caller started
// is the host's, SIGTERM reaches the host, and the caller gets its exit
// code.
func TestE2EServeHandsOver(t *testing.T) {
	e := newE2E(t)
	cmd := exec.Command(e.bin, "--instance", "6", "--no-plugins", "serve")
	cmd.Env = e.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { killServe(pid) })
	err := waitFor(context.Background(), startTimeout, func() (bool, error) {
		select {
		case err := <-done:
			return false, fmt.Errorf("serve exited: %v", err)
		default:
		}
		r := e.run("--instance", "6", "--json", "status")
		return r.code == 0 && strings.Contains(r.stdout, `"pid": `+strconv.Itoa(pid)), nil
	})
	if err != nil {
		t.Fatalf("%v; output:\n%s", err, out.String())
	}
	if name := exeName(pid); name != ServerName || !isServe(pid) {
		t.Fatalf("pid %d runs %q (serve: %v), want %s serve", pid, name, isServe(pid), ServerName)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(stopTimeout):
		t.Fatal("serve did not exit on SIGTERM")
	}
	e.must(3, "--instance", "6", "status")
}

// TestE2EHandOverCommands: plugin check runs in the server (its error is
// the conformance kit's); a hero_codescalers without its server says
// where it looked; --version needs neither.
func TestE2EHandOverCommands(t *testing.T) {
	e := newE2E(t)
	if r := e.must(1, "plugin", "check", "/nonexistent/plugin"); !strings.Contains(r.stderr, "error: plugin check: ") {
		t.Fatalf("plugin check: %s", r.stderr)
	}
	if r := e.must(0, "--version"); !strings.HasPrefix(r.stdout, "hero_codescalers ") {
		t.Fatalf("--version: %q", r.stdout)
	}
	alone := filepath.Join(shortDir(t), "hero_codescalers")
	b, err := os.ReadFile(e.bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	e.bin = alone
	e.env = append(e.env, "PATH=/usr/bin:/bin")
	r := e.must(1, "serve")
	want := ServerName + " not found in " + filepath.Dir(alone) + " (beside hero_codescalers) nor on $PATH (/usr/bin:/bin)"
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("serve without a server: %s", r.stderr)
	}
}
