//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// The plugins judge every owner and ACL entry by the sandbox's account
// files under the policy (sdk/fsutil's fence): the accounts a test gives
// files to are managed ones, members of the marker group, as the host
// makes them.

// markerGroup is the built-in policy's marker group.
const markerGroup = "codescalers"

// ensureMarker makes the marker group exist for the test, removing it at
// cleanup when the test made it.
func ensureMarker(t *testing.T) {
	t.Helper()
	if exec.Command("getent", "group", markerGroup).Run() == nil {
		return
	}
	mustRun(t, "groupadd", "--", markerGroup)
	t.Cleanup(func() { _ = exec.Command("groupdel", "--", markerGroup).Run() })
}

// managedUser creates a managed account (its own group, a member of the
// marker group, no home) with extra useradd arguments, and removes it at
// cleanup.
func managedUser(t *testing.T, name string, args ...string) {
	t.Helper()
	ensureMarker(t)
	argv := append([]string{"--no-create-home", "--shell", "/bin/sh", "--groups", markerGroup}, args...)
	mustRun(t, "useradd", append(argv, "--", name)...)
	t.Cleanup(func() { _ = exec.Command("userdel", "--", name).Run() })
}

// volOwners makes volUID (with its own group volGID) and volUID+1 (in
// that group) managed accounts, the owners the volumes tests give.
func volOwners(t *testing.T) {
	t.Helper()
	ensureMarker(t)
	mustRun(t, "groupadd", "--gid", strconv.Itoa(volGID), "--", "hcvol")
	t.Cleanup(func() { _ = exec.Command("groupdel", "--", "hcvol").Run() })
	managedUser(t, "hcvol", "--uid", strconv.Itoa(volUID), "--gid", strconv.Itoa(volGID))
	managedUser(t, "hcvol2", "--uid", strconv.Itoa(volUID+1), "--gid", strconv.Itoa(volGID))
}

// homeTempDir is a fresh directory below the sandbox's home root, the
// policy's only root, removed at cleanup (after what a test mounted in
// it is unmounted: cleanups run last first).
func homeTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp(sandbox.HomeRoot, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// sandboxPolicy writes the sandbox's policy file (root:root 0644): the
// built-in defaults, changed by change — for a test whose plugin must act
// beneath more roots than /home. The file there before (or none) is back
// at cleanup. Plugins read it when they start.
func sandboxPolicy(t *testing.T, change func(*policy.Policy)) {
	t.Helper()
	keepFile(t, policy.Path)
	p := policy.Defaults("/etc")
	change(&p)
	if err := os.MkdirAll(filepath.Dir(policy.Path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy.Path, p.Render(), 0o644); err != nil {
		t.Fatal(err)
	}
}
