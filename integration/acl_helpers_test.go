//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
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

// aclStaysInside checks that a recursive grant changes nothing outside
// the tree it names: not a filesystem mounted inside it, nor a root-only
// file hard-linked into it (the fence skips a file of others with more
// than one link). named says whether the plugin takes named entries.
func aclStaysInside(t *testing.T, a acl.ACL, named bool) {
	dir := aclScratch(t)
	tree := filepath.Join(dir, "tree")
	mnt := filepath.Join(tree, "mnt")
	os.MkdirAll(mnt, 0o700)
	mustRun(t, "mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", mnt)
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	inMount := filepath.Join(mnt, "f")
	os.WriteFile(inMount, nil, 0o600)
	rootOnly := filepath.Join(dir, "root-only")
	os.WriteFile(rootOnly, []byte("secret\n"), 0o600)
	if err := os.Link(rootOnly, filepath.Join(tree, "hl")); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(tree, "own")
	os.WriteFile(own, nil, 0o600)
	entry := acl.Entry{Tag: acl.TagOther, Perms: "r"}
	if named {
		entry = user1("hcacl1", "r")
	}
	if err := a.Grant(context.Background(), tree, []acl.Entry{entry}, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{mnt, inMount, rootOnly} {
		var st unix.Stat_t
		unix.Lstat(p, &st)
		if st.Mode&0o077 != 0 || strings.Contains(getfacl(t, p), "hcacl1") {
			t.Errorf("%s changed by a recursive grant of the tree around it: mode %o\n%s", p, st.Mode, getfacl(t, p))
		}
	}
	if got := getfacl(t, own); !strings.Contains(got, "other::r--") && !strings.Contains(got, "user:hcacl1:r--") {
		t.Errorf("the tree itself was not changed:\n%s", got)
	}
}
