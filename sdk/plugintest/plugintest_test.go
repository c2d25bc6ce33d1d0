package plugintest_test

import (
	"context"
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
