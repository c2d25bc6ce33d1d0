package plugintest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// testPlugin builds sdk/internal/testplugin once per test binary.
func testPlugin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = tempDirOutsideTest()
		if buildErr != nil {
			return
		}
		args := []string{"build", "-o", filepath.Join(buildDir, "testplugin")}
		if raceEnabled {
			args = append(args, "-race") // the plugin's own goroutines are checked too
		}
		args = append(args, "github.com/threefoldtech/hero_codescalers/sdk/internal/testplugin")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("build testplugin: %v", buildErr)
	}
	return filepath.Join(buildDir, "testplugin")
}

func check(t *testing.T, mode string, opts plugintest.Options) *plugintest.Report {
	t.Helper()
	opts.ScratchDir = t.TempDir()
	opts.Env = append(opts.Env, "TESTPLUGIN_MODE="+mode)
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	rep, err := plugintest.Check(context.Background(), testPlugin(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	return rep
}

func TestWellBehavedPluginPasses(t *testing.T) {
	plugintest.Run(t, testPlugin(t), plugintest.Options{Destructive: true, Env: []string{"TESTPLUGIN_MODE="}})
}

func TestJunkThroughSDKIsKeptOffStdout(t *testing.T) {
	rep := check(t, "junk", plugintest.Options{})
	if !rep.Passed() {
		t.Fatalf("sdk.Serve let junk through:\n%s", rep)
	}
}

// TestPluginWithoutMTLSFails: a plugin that ignores the host's
// certificate and serves plaintext cannot be used by the host, which
// always asks for AutoMTLS; the kit must say so at the handshake.
func TestPluginWithoutMTLSFails(t *testing.T) {
	rep := check(t, "no-mtls", plugintest.Options{})
	res, _ := rep.Result("handshake")
	if res.Status != plugintest.Fail || !strings.Contains(res.Reason, "AutoMTLS") {
		t.Fatalf("handshake: %+v", res)
	}
}

func TestSessionsOnly(t *testing.T) {
	rep := check(t, "sessions-only", plugintest.Options{})
	if !rep.Passed() {
		t.Fatalf("failed:\n%s", rep)
	}
	if _, ok := rep.Result("invalid-input/accounts"); ok {
		t.Error("checked accounts of a sessions-only plugin")
	}
}

func TestRawJunkPluginFails(t *testing.T) {
	rep := check(t, "raw-junk", plugintest.Options{Timeout: 5 * time.Second})
	wantFail(t, rep, "clean-stdout", "junk on fd 1")
	wantFail(t, rep, "host-death", "still running")
}

// TestUnfencedPluginFails: a plugin that does not refuse paths outside
// its policy's roots fails the fence checks, even one (the fakes) that
// never touches the disk.
func TestUnfencedPluginFails(t *testing.T) {
	rep := check(t, "unfenced", plugintest.Options{})
	for _, c := range []string{"fence/volumes", "fence/acl", "fence/sshkeys"} {
		wantFail(t, rep, c, "accepted")
	}
}

// TestSandboxKeepsThePluginOffTheMachine: as root, a plugin that ignores
// its policy and writes into /etc, /root, /home, /var/log and /var/mail
// writes into its sandbox only. The test itself runs in a namespace of its own, made with
// unshare(1) and mount(8) rather than the kit's code, so that a broken
// sandbox fails the test without touching the machine: /etc is an overlay
// there, /root, /home, /var/log and /var/mail are tmpfs.
func TestSandboxKeepsThePluginOffTheMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the sandbox needs root (CI runs as root); without it the plugin has no privilege to write there")
	}
	if os.Getenv(outerEnv) != "" {
		escapeInsideOuter(t)
		return
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is needed for the outer namespace")
	}
	bin := testPlugin(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	up := t.TempDir()
	script := `set -e
mkdir "$1/upper" "$1/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc
mount -t tmpfs tmpfs /root
mount -t tmpfs tmpfs /home
mount -t tmpfs tmpfs /var/log
mount -t tmpfs tmpfs /var/mail
shift
exec "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", up,
		self, "-test.run=^TestSandboxKeepsThePluginOffTheMachine$", "-test.count=1")
	cmd.Env = append(os.Environ(), outerEnv+"="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("inside the outer namespace: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	if strings.Contains(string(out), "no tests to run") {
		t.Fatal("the inner run ran nothing")
	}
}

// outerEnv marks the run inside the outer namespace and names the test
// plugin built outside it.
const outerEnv = "HERO_CODESCALERS_PLUGINTEST_OUTER"

func escapeInsideOuter(t *testing.T) {
	opts := plugintest.Options{ScratchDir: t.TempDir(), Timeout: 5 * time.Second, Env: []string{"TESTPLUGIN_MODE=escape"}}
	rep, err := plugintest.Check(context.Background(), os.Getenv(outerEnv), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := rep.Result("probe"); res.Status != plugintest.Pass {
		t.Fatalf("the escaping probe did not run: %+v\n%s", res, rep)
	}
	for _, dir := range []string{"/etc", "/root", "/home", "/var/log", "/var/mail"} {
		if _, err := os.Lstat(dir + "/hero_codescalers-ptest-escape"); err == nil {
			t.Errorf("the plugin reached %s outside its sandbox", dir)
		}
	}
}

func TestPreHandshakeJunkFailsHandshake(t *testing.T) {
	rep := check(t, "pre-junk", plugintest.Options{Timeout: 2 * time.Second})
	wantFail(t, rep, "handshake", "hello from a plugin")
}

func TestSilentPluginTimesOut(t *testing.T) {
	start := time.Now()
	rep := check(t, "silent", plugintest.Options{Timeout: time.Second})
	wantFail(t, rep, "handshake", "timeout")
	wantFail(t, rep, "sigterm", "no handshake")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a silent plugin held the kit for %s", d)
	}
}

func wantFail(t *testing.T, rep *plugintest.Report, name, reason string) {
	t.Helper()
	res, ok := rep.Result(name)
	if !ok {
		t.Fatalf("no check %q in report:\n%s", name, rep)
	}
	if res.Status != plugintest.Fail || !strings.Contains(res.Reason, reason) {
		t.Errorf("%s: got %s %q, want fail mentioning %q", name, res.Status, res.Reason, reason)
	}
}
