//go:build integration

package integration

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestModeACLPlugin runs the mode plugin: owner, group and other entries
// become mode bits getfacl and stat agree on, what needs a real ACL is
// refused by name, ownership is exact, and no symlink is followed.
func TestModeACLPlugin(t *testing.T) {
	sandbox.Require(t)
	aclUser(t, "hcacl1")
	bin := buildPlugin(t, "mode")
	m := dispense[acl.ACL](t, startPlugin(t, bin, aclEnv...), sdk.ConcernACL)
	ctx, dir := context.Background(), aclScratch(t)
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o600)
	if err := m.Grant(ctx, f, []acl.Entry{{Tag: acl.TagGroupObj, Perms: "rx"}, {Tag: acl.TagOther, Perms: "r"}}, false); err != nil {
		t.Fatal(err)
	}
	if got, want := getfacl(t, f), "user::rw-\ngroup::r-x\nother::r--\n\n"; got != want {
		t.Fatalf("getfacl:\n%s\nwant:\n%s", got, want)
	}
	l, err := m.Get(ctx, f)
	if err != nil || len(l.Access) != 3 || l.Access[1] != (acl.Entry{Tag: acl.TagGroupObj, Perms: "r-x"}) {
		t.Fatalf("Get: %v %v", l, err)
	}
	err = m.Grant(ctx, f, []acl.Entry{user1("hcacl1", "r")}, false)
	if !sdkerr.Is(err, sdkerr.FailedPrecondition) || !strings.Contains(err.Error(), "ACLs unsupported by the mode plugin") {
		t.Fatalf("named entry: %v", err)
	}
	if strings.Contains(getfacl(t, f), "hcacl1") {
		t.Fatal("a refused grant left an entry")
	}
	u, _ := user.Lookup("hcacl1")
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The fence refuses a setuid or setgid file, and a file of root.
	for _, o := range [][3]uint32{{uint32(uid), uint32(gid), 0o4710}, {uint32(uid), uint32(gid), 0o2710}, {0, uint32(gid), 0o710}} {
		if err := m.SetOwnership(ctx, f, o[0], o[1], o[2]); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("SetOwnership(%d:%d %o): want permission_denied, got %v", o[0], o[1], o[2], err)
		}
	}
	if err := m.SetOwnership(ctx, f, uint32(uid), uint32(gid), 0o710); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Stat(f, &st)
	if st.Mode&0o7777 != 0o710 || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Fatalf("SetOwnership: mode %o owner %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
	}
	t.Run("symlinks", func(t *testing.T) { aclSymlinks(t, m, false) })
	t.Run("stays-inside", func(t *testing.T) { aclStaysInside(t, m, false) })
	t.Run("plugintest", func(t *testing.T) {
		plugintest.Run(t, bin, plugintest.Options{ScratchDir: aclScratch(t), Destructive: true, Env: aclEnv})
	})
}
