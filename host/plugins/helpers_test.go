package plugins_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// The binaries the process tests run, built once per test binary.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

const module = "github.com/threefoldtech/hero_codescalers"

// binary returns the path of a freshly built test binary: "fakeplugin"
// (host/plugins/internal/fakeplugin), "testplugin" (the sdk's misbehaving
// one) or "testhost".
func binary(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs plugin processes")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "plugins-test-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+"/",
			module+"/host/plugins/internal/fakeplugin",
			module+"/sdk/internal/testplugin",
			module+"/host/plugins/internal/testhost")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, name)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// pluginDir makes a plugin dir in t.TempDir() that other users may read,
// as a real one is.
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// install copies the binary src into dir under name and writes its
// manifest from `name describe`, as `make plugins` does.
func install(t *testing.T, dir, src, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "describe").Output()
	if err != nil {
		t.Fatalf("%s describe: %v", path, err)
	}
	if err := os.WriteFile(sdk.ManifestPath(path), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// logBook is a slog handler that keeps every record, for assertions on
// what the manager (and the plugins through it) logged.
type logBook struct {
	mu      sync.Mutex
	records []string
	attrs   []slog.Attr
	shared  *logBook
}

func newLogBook() *logBook { b := &logBook{}; b.shared = b; return b }

func (b *logBook) Enabled(context.Context, slog.Level) bool { return true }

func (b *logBook) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s", r.Level, r.Message)
	for _, a := range b.attrs {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
		return true
	})
	b.shared.mu.Lock()
	b.shared.records = append(b.shared.records, sb.String())
	b.shared.mu.Unlock()
	return nil
}

func (b *logBook) WithAttrs(as []slog.Attr) slog.Handler {
	return &logBook{attrs: append(append([]slog.Attr(nil), b.attrs...), as...), shared: b.shared}
}

func (b *logBook) WithGroup(string) slog.Handler { return b }

// find returns the first record containing every part.
func (b *logBook) find(parts ...string) (string, bool) {
	b.shared.mu.Lock()
	defer b.shared.mu.Unlock()
next:
	for _, r := range b.shared.records {
		for _, p := range parts {
			if !strings.Contains(r, p) {
				continue next
			}
		}
		return r, true
	}
	return "", false
}

func (b *logBook) dump(t *testing.T) {
	b.shared.mu.Lock()
	defer b.shared.mu.Unlock()
	for _, r := range b.shared.records {
		t.Log(r)
	}
}

// harness is a manager under test with its store and log.
type harness struct {
	*plugins.Manager
	store core.Store
	log   *logBook
}

// start builds and starts a manager over dir in direct mode (the tests run
// as root in CI and as anyone on a laptop), with quick timings.
func start(t *testing.T, dir string, tweak ...func(*plugins.Options)) *harness {
	t.Helper()
	h := &harness{store: memstore.New(), log: newLogBook()}
	h.Manager = startWith(t, dir, h.store, h.log, tweak...)
	return h
}

func startWith(t *testing.T, dir string, store core.Store, log *logBook, tweak ...func(*plugins.Options)) *plugins.Manager {
	t.Helper()
	opts := plugins.Options{
		Dirs: []string{dir}, Store: store, Logger: slog.New(log), Mode: plugins.ModeDirect,
		Platform:      &plugins.Platform{ID: "debian", VersionID: "12", FSType: "ext4"},
		ProbeInterval: 100 * time.Millisecond,
		Backoff:       plugins.Backoff{Min: 20 * time.Millisecond, Max: time.Second, StableAfter: time.Minute},
	}
	for _, f := range tweak {
		f(&opts)
	}
	m, err := plugins.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			log.dump(t)
		}
	})
	return m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// info returns the List entry of concern.
func info(m *plugins.Manager, concern string) core.PluginInfo {
	for _, i := range m.List() {
		if i.Concern == concern {
			return i
		}
	}
	return core.PluginInfo{}
}

// ready waits for the first start of every plugin and checks that each
// concern with a plugin has a ready one (concerns without are the test's
// choice).
func ready(t *testing.T, m *plugins.Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.WaitReady(ctx); err != nil && ctx.Err() != nil {
		t.Fatal(err)
	}
	for _, i := range m.List() {
		if i.Name != "" && i.State != core.PluginReady {
			t.Fatalf("%s: %+v", i.Concern, i)
		}
	}
}

// alive reports whether pid runs (a zombie nobody reaped does not).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func kill9(t *testing.T, pid int) {
	t.Helper()
	if pid <= 0 {
		t.Fatalf("no pid to kill: %d", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// starts counts the processes fakeplugin at path has started so far.
func starts(path string) int {
	data, _ := os.ReadFile(path + ".starts")
	return strings.Count(string(data), "\n")
}

func newStore() core.Store { return memstore.New() }

// appendTo appends bytes to a file, as a tampering attacker (or an
// upgrade) would change a binary.
func appendTo(t *testing.T, path, what string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(what); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// replaceTampered swaps the file at path for a copy with bytes appended,
// by rename, as an upgrade replaces a running binary.
func replaceTampered(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, append(data, "tampered"...), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
