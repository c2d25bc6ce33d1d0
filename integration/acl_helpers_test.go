//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// aclEnv is the environment the acl and sshkeys plugins run with here.
// They take the home root from the policy now (the built-in /home here);
// the host still passes the variable, which no longer widens anything.
var aclEnv = []string{"HERO_CODESCALERS_PLUGIN_HOME_ROOT=/home"}

// aclUser creates a managed sandbox account (no home) and removes it at
// cleanup: the acl plugins name only managed accounts in an entry.
func aclUser(t *testing.T, name string) {
	t.Helper()
	managedUser(t, name)
}

// aclGroup creates a sandbox group and removes it at cleanup.
func aclGroup(t *testing.T, name string) {
	t.Helper()
	mustRun(t, "groupadd", "--", name)
	t.Cleanup(func() { _ = exec.Command("groupdel", "--", name).Run() })
}

// aclScratch is a fresh directory below the sandbox's /home (not directly
// in it: a direct child of the home root is a home, which the acl plugins
// guard), removed at cleanup.
func aclScratch(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("/home", "hc-acl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "work")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// getfacl is the real getfacl's view of path, without the header.
func getfacl(t *testing.T, args ...string) string {
	t.Helper()
	return mustRun(t, "getfacl", append([]string{"--omit-header", "--absolute-names"}, args...)...)
}
