package plugintest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
)

// buildTestdata builds one of testdata's plugins into dir.
func buildTestdata(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	return bin
}

// TestKitFailsAV1PluginThatKeepsKeys: the authorized_keys.d plugin written
// against the first sshkeys contract (testdata/v1keysd), which a host
// never told of a user's end, runs through the host's v1 adapter (the kit
// dispenses it as the host does) and fails the host-level step, naming
// the file it left and where: the delete's Forget could only remove its
// keys, not its file. Before the v2 contract the kit passed it.
func TestKitFailsAV1PluginThatKeepsKeys(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the plugin writes /etc/ssh/authorized_keys.d: only in the kit's sandbox, as root")
	}
	rep, err := plugintest.Check(context.Background(), buildTestdata(t, "v1keysd"),
		plugintest.Options{ScratchDir: t.TempDir(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	wantFail(t, rep, "lifecycle/sshkeys", "/etc/ssh/authorized_keys.d/ptest-owner")
	res, _ := rep.Result("lifecycle/sshkeys")
	if !strings.Contains(res.Reason, "left") {
		t.Errorf("the failure does not say what was left behind: %s", res.Reason)
	}
	for _, c := range []string{"invalid-input/sshkeys", "idempotency/sshkeys", "fence/sshkeys"} {
		if r, _ := rep.Result(c); r.Status == plugintest.Fail {
			t.Errorf("%s failed: %s (only the lifecycle should tell this plugin apart)", c, r.Reason)
		}
	}
	if _, err := os.Lstat("/etc/ssh/authorized_keys.d/ptest-owner"); err == nil {
		t.Error("the plugin's file reached the machine's /etc")
	}
}
