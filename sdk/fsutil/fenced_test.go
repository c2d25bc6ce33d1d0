package fsutil_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// TestFenceVolumes: what the fence refuses never reaches the
// implementation; what it admits does, unchanged.
func TestFenceVolumes(t *testing.T) {
	root := t.TempDir()
	e := fsutiltest.New(t, "fake", root)
	fake := volumes.NewFake()
	v := fsutil.FenceVolumes(e.Fence, fake)
	ctx := context.Background()
	own := volumes.Owner{UID: e.UID, GID: e.GID, Mode: 0o600}
	home := filepath.Join(root, "alice")
	if _, err := v.CreateVolume(ctx, volumes.VolumeSpec{Path: home, Owner: volumes.Owner{UID: e.UID, GID: e.GID, Mode: 0o755}}); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile(ctx, filepath.Join(home, "cfg"), []byte("x"), own); err != nil {
		t.Fatal(err)
	}
	refused := map[string]error{}
	refused["WriteFile /etc/sudoers.d/zz-pwn"] = v.WriteFile(ctx, "/etc/sudoers.d/zz-pwn", []byte("x"), own)
	refused["WriteFile setuid"] = v.WriteFile(ctx, filepath.Join(home, "suid"), []byte("x"), volumes.Owner{UID: e.UID, GID: e.GID, Mode: 0o4755})
	refused["WriteFile root-owned"] = v.WriteFile(ctx, filepath.Join(home, "root"), []byte("x"), volumes.Owner{Mode: 0o644})
	refused["EnsureDir outside"] = v.EnsureDir(ctx, "/etc/cron.d", own)
	refused["EnsureDir at the root"] = v.EnsureDir(ctx, root, own)
	_, refused["CreateVolume outside"] = v.CreateVolume(ctx, volumes.VolumeSpec{Path: "/root/x", Owner: own})
	refused["DeleteVolume of the root"] = v.DeleteVolume(ctx, root)
	_, refused["Snapshot out"] = v.Snapshot(ctx, volumes.SnapshotSpec{Source: home, Dest: "/var/snap"})
	_, refused["SetQuota outside"] = v.SetQuota(ctx, "/var", 1)
	refused["Sync outside"] = v.Sync(ctx, []string{home, "/etc/passwd"})
	for what, err := range refused {
		if !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: want permission_denied, got %v", what, err)
		}
	}
	for _, p := range []string{"/etc/sudoers.d/zz-pwn", filepath.Join(home, "suid"), filepath.Join(home, "root")} {
		if _, ok := fake.File(p); ok {
			t.Errorf("%s reached the implementation", p)
		}
	}
	if _, ok := fake.File(filepath.Join(home, "cfg")); !ok {
		t.Error("an admitted WriteFile did not reach the implementation")
	}
	if err := v.WriteFile(ctx, "relative", nil, own); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("malformed input: %v", err)
	}
}

func TestFenceACL(t *testing.T) {
	root := t.TempDir()
	e := fsutiltest.New(t, "fake", root)
	e.AddUser(t, "bob", 7001, true)
	fake := acl.NewFake()
	a := fsutil.FenceACL(e.Fence, fake)
	ctx := context.Background()
	f := filepath.Join(root, "f")
	os.WriteFile(f, nil, 0o640)
	if err := a.Grant(ctx, f, []acl.Entry{{Tag: acl.TagUser, Qualifier: "bob", Perms: "r"}}, false); err != nil {
		t.Fatal(err)
	}
	if l, _ := fake.Get(ctx, f); len(l.Access) == 0 || !hasQualifier(l.Access, "7001") {
		t.Errorf("the implementation got %v, want the numeric qualifier 7001", l.Access)
	}
	for what, err := range map[string]error{
		"Grant on /etc/shadow":  a.Grant(ctx, "/etc/shadow", []acl.Entry{{Tag: acl.TagOther, Perms: "r"}}, false),
		"Grant to root":         a.Grant(ctx, f, []acl.Entry{{Tag: acl.TagUser, Qualifier: "root", Perms: "rwx"}}, false),
		"SetOwnership to root":  a.SetOwnership(ctx, f, 0, e.GID, 0o644),
		"SetOwnership setuid":   a.SetOwnership(ctx, f, e.UID, e.GID, 0o4755),
		"SetOwnership outside":  a.SetOwnership(ctx, "/etc/passwd", e.UID, e.GID, 0o644),
		"Revoke outside":        a.Revoke(ctx, "/etc/shadow", []acl.Entry{{Tag: acl.TagUser, Qualifier: "x"}}),
		"Get of the root":       func() error { _, err := a.Get(ctx, root); return err }(),
		"Get outside the fence": func() error { _, err := a.Get(ctx, "/etc/shadow"); return err }(),
	} {
		if !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: want permission_denied, got %v", what, err)
		}
	}
	if _, ok := fake.Ownership(f); ok {
		t.Error("a refused SetOwnership reached the implementation")
	}
}

func hasQualifier(l []acl.Entry, q string) bool {
	for _, e := range l {
		if e.Qualifier == q {
			return true
		}
	}
	return false
}

func TestFenceSSHKeys(t *testing.T) {
	root := t.TempDir()
	e := fsutiltest.New(t, "fake", root)
	k := fsutil.FenceSSHKeys(e.Fence, sshkeys.NewFake())
	ctx := context.Background()
	key := sshkeys.FakePublicKey("x")
	alice := lifecycle.User{Name: e.Name, UID: e.UID, GID: e.GID, Home: filepath.Join(root, "alice")}
	if a, err := k.AddAuthorizedKeys(ctx, alice, []string{key}); err != nil || a.Added != 1 {
		t.Fatalf("inside: %+v %v", a, err)
	}
	at := func(home string) lifecycle.User { u := alice; u.Home = home; return u }
	rootOwned := alice
	rootOwned.UID, rootOwned.GID = 0, 0
	for what, err := range map[string]error{
		"keys for /root":     func() error { _, err := k.AddAuthorizedKeys(ctx, at("/root"), []string{key}); return err }(),
		"keys owned by root": func() error { _, err := k.AddAuthorizedKeys(ctx, rootOwned, []string{key}); return err }(),
		"keypair in /etc/ssh": func() error {
			_, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: alice, Dir: "/etc/ssh"})
			return err
		}(),
		"list /root":   func() error { _, err := k.ListAuthorizedKeys(ctx, at("/root")); return err }(),
		"forget /root": func() error { _, err := k.Forget(ctx, at("/root")); return err }(),
	} {
		if !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: want permission_denied, got %v", what, err)
		}
	}
}
