//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The dashboard's browser tests drive Debian's chromium (scripts/deps.sh
// installs it) through chromedp, and check accessibility with axe-core
// from npm (deps.sh puts it in a cache dir; HC_AXE_JS names the file).

// requireChromium returns the chromium binary or skips.
func requireChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (scripts/deps.sh installs it)")
	return ""
}

// axeSource is axe.min.js, read once; the test skips without it.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("HC_AXE_JS")
	if path == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			cache = filepath.Join(os.Getenv("HOME"), ".cache")
		}
		matches, _ := filepath.Glob(filepath.Join(cache, "hero_codescalers", "axe-core-*", "node_modules", "axe-core", "axe.min.js"))
		if len(matches) == 0 {
			t.Skip("axe-core is not installed (scripts/deps.sh installs it; or set HC_AXE_JS)")
		}
		path = matches[len(matches)-1]
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("axe-core: %v", err)
	}
	return string(b)
}

// browser starts a headless Chromium as root (so without its sandbox) in
// a fresh profile, and returns a chromedp context on one tab. Its home
// and XDG dirs are temporary too: Chromium keeps its crash reports under
// $XDG_CONFIG_HOME whatever the profile, and root's home is the machine's.
func browser(t *testing.T, bin string) context.Context {
	t.Helper()
	home := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Env("HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache")),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // the first run starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs chromedp steps with a deadline, failing the test.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one chromedp action with a deadline and returns its value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// pageText is the visible text of the page's main element.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, "read the page", chromedp.Text(chromedp.CSS("main")))
}

// waitText waits until the main element's text holds want.
func waitText(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	var last string
	if !eventually(15*time.Second, func() bool {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS("main")))
		last = s
		return err == nil && strings.Contains(s, want)
	}) {
		t.Fatalf("timed out waiting for the page to say %q; it says:\n%s", want, last)
	}
}

// axeViolation is the part of an axe-core violation the test reports.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeCheck runs axe-core in the page and fails on serious or critical
// violations. The script is evaluated through DevTools, which the page's
// CSP does not govern; the page itself loads nothing but its own assets.
func axeCheck(t *testing.T, ctx context.Context, axe, where string) {
	t.Helper()
	expr := `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`
	get(t, ctx, "load axe on "+where, chromedp.Evaluate[bool](axe+"\n;true"))
	out := get(t, ctx, "axe on "+where, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe result %q: %v", out, err)
	}
	for _, v := range vs {
		t.Errorf("axe on %s: %s (%s): %s at %v", where, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// artifactDir is where screenshots go: HC_ARTIFACT_DIR, else a directory
// under the system's temp dir that outlives the test (its path is logged).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HC_ARTIFACT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hero_codescalers-artifacts")
	}
	dir = filepath.Join(dir, "dashboard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as name.png among the artifacts and,
// with HC_UPDATE_DOCS=1, as the README's picture in docs/dashboard.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("HC_UPDATE_DOCS") == "1" {
		docs := filepath.Join("..", "docs", "dashboard")
		if err := os.MkdirAll(docs, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(docs, name+".png"), png, 0o644)
		}
	}
}

// freePort is a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// netns is a network namespace of the test's own, held by a sleeping
// process, with loopback up; tools run inside it through nsenter.
type netns struct {
	t   *testing.T
	pid int
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	for _, tool := range []string{"unshare", "nsenter", "ip", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	cmd := exec.Command("unshare", "--net", "--", "sleep", "3600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	n := &netns{t: t, pid: cmd.Process.Pid}
	self, _ := os.Readlink("/proc/self/ns/net")
	waitFor(t, "the network namespace", 5*time.Second, func() bool {
		other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", n.pid))
		return err == nil && other != self
	})
	n.ip("link", "set", "lo", "up")
	return n
}

// enter is the command prefix that runs a program inside the namespace.
func (n *netns) enter() []string {
	return []string{"nsenter", "--target", strconv.Itoa(n.pid), "--net", "--"}
}

func (n *netns) ip(args ...string) {
	n.t.Helper()
	argv := append(n.enter(), append([]string{"ip"}, args...)...)
	mustRun(n.t, argv[0], argv[1:]...)
}

// tun adds a TUN device carrying addrs (with /7, as mycelium's does, no
// duplicate address detection) and brings it up.
func (n *netns) tun(dev string, addrs ...string) {
	n.ip("tuntap", "add", "dev", dev, "mode", "tun")
	for _, a := range addrs {
		n.ip("-6", "addr", "add", a, "dev", dev, "nodad")
	}
	n.ip("link", "set", dev, "up")
}

// curl makes one request from inside the namespace, from the source
// address src, and returns the status code (0 when there was no HTTP
// answer) and the body.
func (n *netns) curl(src, url string, args ...string) (int, string) {
	n.t.Helper()
	argv := append(n.enter(), "curl", "-s", "-k", "-g", "--max-time", "10", "--interface", src, "-w", "\n%{http_code}")
	argv = append(append(argv, args...), url)
	out, _ := exec.Command(argv[0], argv[1:]...).Output()
	s := strings.TrimRight(string(out), "\n")
	i := strings.LastIndexByte(s, '\n')
	code, _ := strconv.Atoi(s[i+1:])
	return code, s[:max(i, 0)]
}
