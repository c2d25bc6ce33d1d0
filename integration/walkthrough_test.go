//go:build integration

package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/internal/mdsnippet"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// TestGuideWalkthrough is the proof that a new plugin author who
// follows only the guide (examples/README.md) gets a plugin that passes
// the kit and works in a host on the first try. Everything the plugin is
// made of comes from the page: its files (blocks headed file=NAME) are
// written into a module of their own outside the repository, and its
// commands (blocks headed run) run there, in order, with the sdk taken from
// this checkout as the page says to without a network. Then, as the page's
// sections 8 and 9 say: the module's go test (the guide's conformance
// test, the kit in process) and `plugin check` on the binary; a root-owned
// plugin dir with the manifest beside the binary; `setup driver
// --plugin-dir` pinning its digest; a host pinning it
// (sessions=tmuxsessions) lists a user's tmux session and, at user-delete,
// ends it and Forgets the user's /tmp/tmux-<uid>; the machine ends as it
// began. Last, the upgrade path: a rebuilt binary is refused by the host
// until plugin-approve, and by `setup driver --check` until setup runs
// again.
func TestGuideWalkthrough(t *testing.T) {
	sandbox.Require(t)
	for _, tool := range []string{"tmux", "runuser", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (the guide's plugin drives tmux): %v", tool, err)
		}
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(repo, "examples", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := mdsnippet.Parse(md)
	if err != nil {
		t.Fatalf("examples/README.md: %v", err)
	}

	// The reader's working directory, outside the repository, with the
	// checkout beside the module as the page's section 0 has it.
	ws, err := os.MkdirTemp("", "hc-walkthrough-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ws) })
	if err := os.Symlink(repo, filepath.Join(ws, "hero_codescalers")); err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(ws, "tmuxsessions")
	start := time.Now()
	var files, runs int
	for _, b := range blocks {
		switch {
		case b.File != "":
			if _, err := os.Stat(mod); err != nil {
				t.Fatalf("examples/README.md:%d: file %s comes before the module is made: %v", b.Line, b.File, err)
			}
			if err := os.WriteFile(filepath.Join(mod, b.File), []byte(b.Text), 0o644); err != nil {
				t.Fatal(err)
			}
			files++
		case b.Run:
			dir := mod
			if _, err := os.Stat(mod); err != nil {
				dir = ws
			}
			guideRun(t, b, dir)
			runs++
		}
	}
	t.Logf("the guide's %d files and %d command blocks: a built plugin in %v", files, runs, time.Since(start).Round(time.Millisecond))
	if out, err := goOffline(mod, "vet", "./...").CombinedOutput(); err != nil {
		t.Fatalf("go vet in the guide's module (its conformance test included): %v\n%s", err, out)
	}
	// Section 8's go test: the guide's conformance test runs the kit on a
	// build of the module.
	began := time.Now()
	if out, err := goOffline(mod, "test", "-count=1", "./...").CombinedOutput(); err != nil {
		t.Fatalf("go test in the guide's module: %v\n%s", err, out)
	}
	t.Logf("the guide's go test (the kit, in process): %v", time.Since(began).Round(time.Millisecond))
	bin := filepath.Join(mod, "dist", "tmuxsessions")
	manifest := bin + ".manifest.json"
	for _, f := range []string{bin, manifest} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the guide's build left no %s: %v", f, err)
		}
	}
	if strings.Contains(readFile(t, filepath.Join(mod, "go.mod")), "hero_codescalers/sdk") {
		t.Errorf("go.mod names the sdk as a module of its own; the page says it is a package tree of hero_codescalers")
	}

	// Section 8: the kit, through the real CLI, as root (its sandbox).
	tree := buildTree(t, "")
	results := pluginCheck(t, tree, bin)
	for _, name := range []string{"sandbox", "handshake", "mtls", "identity", "manifest", "probe", "dispense",
		"invalid-input/sessions", "idempotency/sessions", "lifecycle/sessions", "clean-stdout", "sigterm", "host-death"} {
		if results[name] != "pass" {
			t.Errorf("kit check %s: %q, want pass", name, results[name])
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Section 9, step 1: a plugin dir, root-owned and writable by root
	// alone, with the manifest beside the binary.
	dir, err := os.MkdirTemp("", "hc-walk-plugins-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	install := func() {
		copyFile(t, bin, filepath.Join(dir, "tmuxsessions"), 0o755)
		copyFile(t, manifest, filepath.Join(dir, "tmuxsessions.manifest.json"), 0o644)
	}
	install()

	// Step 4: setup driver with the host's plugin dir pins the binary's
	// digest for sudo.
	keepFile(t, policy.Path)
	keepFile(t, filepath.Join("/", setup.SudoersFile))
	const driver = "hcwalk"
	t.Cleanup(func() { _ = exec.Command("userdel", "--", driver).Run() })
	driverHome := filepath.Join(t.TempDir(), "home")
	setupDriver := func(args ...string) (string, int) {
		return runCode(t, filepath.Join(tree, "hero_codescalers"), append([]string{"setup", "driver", "--user", driver, "--home", driverHome, "--plugin-dir", dir}, args...)...)
	}
	if out, code := setupDriver(); code != 0 {
		t.Fatalf("setup driver: exit %d\n%s", code, out)
	}
	wantSudoersPin(t, filepath.Join(dir, "tmuxsessions"))

	// Step 2: a host with the plugin pinned.
	ensureDriver(t)
	quotasOn(t)
	h := newHost(t, tree)
	h.unpinned = true
	h.args = []string{"--plugin-dir", dir, "--plugin", "sessions=tmuxsessions"}
	h.start()
	before := machineState(t)
	info := sessionsPlugin(t, h)
	if info.Name != "tmuxsessions" || info.State != core.PluginReady || info.Version != "0.1.0" ||
		info.Path != filepath.Join(dir, "tmuxsessions") || info.Why != "pinned" {
		t.Fatalf("the host's sessions plugin: %+v, want tmuxsessions 0.1.0 from %s, ready, pinned", info, dir)
	}
	t.Logf("the host's sessions plugin: %s %s (%s), %s, pid %d", info.Name, info.Version, info.Why, info.State, info.PID)

	// A user, a tmux session of theirs, listed by the host through the
	// plugin (a tmuxsessions id: <uid>.<socket>.<n>).
	var u core.User
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-create", "alice", "--uid", strayUIDArg())), &u); err != nil {
		t.Fatal(err)
	}
	sockDir := filepath.Join("/tmp", "tmux-"+strconv.Itoa(u.UID))
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-S", filepath.Join(sockDir, "default"), "kill-server").Run()
		os.RemoveAll(sockDir)
	})
	if out, err := exec.Command("runuser", "-u", "alice", "--", "env", "-i", "HOME="+u.Home, "PATH=/usr/bin:/bin", "TERM=xterm",
		"tmux", "new-session", "-d", "-s", "work", "sleep", "600").CombinedOutput(); err != nil {
		t.Fatalf("tmux as alice: %v\n%s", err, out)
	}
	var sl api.SessionListResult
	waitFor(t, "alice's tmux session listed by the host", 15*time.Second, func() bool {
		o, _, code := h.cli("--json", "session-list", "alice")
		return code == 0 && json.Unmarshal([]byte(o), &sl) == nil && len(sl.Sessions) == 1
	})
	if s := sl.Sessions[0]; !strings.HasPrefix(s.ID, strconv.Itoa(u.UID)+".default.") || s.User != "alice" || len(s.PIDs) != 1 {
		t.Errorf("session %+v: want tmuxsessions' id %d.default.N for alice, with its pane's pid", s, u.UID)
	}
	if fi, err := os.Lstat(sockDir); err != nil || !fi.IsDir() {
		t.Fatalf("tmux made no %s: %v", sockDir, err)
	}

	// user-delete: KillUser ends the tmux server and the session's sleep,
	// Forget removes the socket directory; nothing of alice is left.
	t.Logf("alice's tmux session, listed by the host: %+v", sl.Sessions[0])
	h.mustCLI("user-delete", "alice")
	if left := uidProcs(u.UID); len(left) != 0 {
		t.Errorf("processes of uid %d survived the delete: %v", u.UID, left)
	}
	if _, err := os.Lstat(sockDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after user-delete (Forget should remove it): %v", sockDir, err)
	}
	sameMachine(t, before, machineState(t))
	if !strings.Contains(h.log.String(), "tmuxsessions") {
		t.Errorf("the host logged nothing of tmuxsessions:\n%s", h.log)
	}

	// Section 9, steps 4 and 5 on an upgrade: a rebuilt binary is refused
	// by the host's lock until plugin-approve, and setup's --check finds
	// the sudoers pin stale until setup driver runs again.
	h.stop()
	if out, err := goOffline(mod, "build", "-ldflags", "-X main.version=0.1.1", "-o", "dist/tmuxsessions", ".").CombinedOutput(); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "describe").Output(); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(manifest, out, 0o644); err != nil {
		t.Fatal(err)
	}
	install()
	h.degradedOK = true
	h.start()
	if info := sessionsPlugin(t, h); info.State != core.PluginRefused || !strings.Contains(info.LastError, "plugin-approve sessions") {
		t.Errorf("the rebuilt plugin before approval: %+v, want refused, naming plugin-approve sessions", info)
	}
	t.Logf("the rebuilt plugin, refused: %s", sessionsPlugin(t, h).LastError)
	h.mustCLI("plugin-approve", "sessions")
	if info := sessionsPlugin(t, h); info.Name != "tmuxsessions" || info.State != core.PluginReady || info.Version != "0.1.1" {
		t.Errorf("after plugin-approve: %+v, want tmuxsessions 0.1.1 ready", info)
	}
	if out, code := setupDriver("--check"); code != 1 || !strings.Contains(out, "tmuxsessions") {
		t.Errorf("setup driver --check after the rebuild: exit %d, want 1 naming tmuxsessions\n%s", code, out)
	}
	if out, code := setupDriver(); code != 0 {
		t.Fatalf("setup driver again: exit %d\n%s", code, out)
	}
	wantSudoersPin(t, filepath.Join(dir, "tmuxsessions"))
}

// guideRun runs one of the guide's command blocks in dir with bash, as a
// reader pastes it; offline: the module cache is the only source of the
// sdk's dependencies.
func guideRun(t *testing.T, b mdsnippet.Block, dir string) {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", b.Text)
	cmd.Dir, cmd.Env = dir, offlineEnv(false)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/README.md:%d, run in %s:\n%s%v\n%s", b.Line, dir, b.Text, err, out)
	}
}

// offlineEnv is the environment of a reader without a network: the
// module cache instead of the proxy, no checksum database (go.sum is
// written from the cache), no workspace. The guide's own commands run
// without GOFLAGS (what they need, they say); the test's further go
// commands (vet, which also compiles the kit's imports, and a rebuild)
// take -mod=mod.
func offlineEnv(modMod bool) []string {
	env := append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
	if modMod {
		return append(env, "GOFLAGS=-mod=mod")
	}
	return append(env, "GOFLAGS=")
}

func goOffline(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, offlineEnv(true)
	return cmd
}

// pluginCheck runs `hero_codescalers --json plugin check bin` and returns
// each check's status; a check that did not pass fails the test.
func pluginCheck(t *testing.T, tree, bin string) map[string]string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(tree, "hero_codescalers"), "--json", "plugin", "check", bin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	t.Logf("plugin check took %v", time.Since(start).Round(time.Millisecond))
	var rep struct {
		Results []struct{ Name, Status, Reason string }
	}
	if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
		t.Fatalf("plugin check: %v %v\n%s%s", err, jerr, out.String(), errb.String())
	}
	got := map[string]string{}
	for _, r := range rep.Results {
		got[r.Name] = r.Status
		t.Logf("%-24s %s  %s", r.Name, r.Status, r.Reason)
		if r.Status != "pass" {
			t.Errorf("kit check %s: %s: %s", r.Name, r.Status, r.Reason)
		}
	}
	if err != nil {
		t.Errorf("plugin check exited: %v\n%s", err, errb.String())
	}
	return got
}

// sessionsPlugin is the plugin-list row of the sessions concern.
func sessionsPlugin(t *testing.T, h *hostUnderTest) core.PluginInfo {
	t.Helper()
	var pl api.PluginListResult
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "plugin-list")), &pl); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pl.Plugins, func(p core.PluginInfo) bool { return p.Concern == "sessions" })
	if i < 0 {
		t.Fatalf("plugin-list has no sessions row\n%s", h.mustCLI("plugin-list"))
	}
	return pl.Plugins[i]
}

// wantSudoersPin checks that the sudoers rules pin path by its current
// sha256.
func wantSudoersPin(t *testing.T, path string) {
	t.Helper()
	sum := sha256.Sum256([]byte(readFile(t, path)))
	sudoers := readFile(t, filepath.Join("/", setup.SudoersFile))
	if want := "sha256:" + hex.EncodeToString(sum[:]) + " " + path; !strings.Contains(sudoers, want) {
		t.Errorf("%s does not pin %s (want %q):\n%s", setup.SudoersFile, path, want, sudoers)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// A new file, renamed over the old: the host may be running the old
	// binary (ETXTBSY on a write in place).
	tmp := to + ".new"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// runCode runs a command and returns its combined output and exit code.
func runCode(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}
