package fsutil_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestPathAndBelow(t *testing.T) {
	root := t.TempDir()
	f := fsutiltest.NewWith(t, "openssh", func(p *policy.Policy) {
		p.Roots = map[string][]string{"openssh": {"/etc/ssh/keys"}, "other": {"/srv"}}
	}, root).Fence
	for _, tc := range []struct {
		p           string
		path, below sdkerr.Code
	}{
		{root + "/alice", "", ""},
		{root, "", sdkerr.PermissionDenied},
		{"/etc/ssh/keys/alice", "", ""},
		{"/etc/ssh/keys", "", sdkerr.PermissionDenied},
		{"/srv/x", sdkerr.PermissionDenied, sdkerr.PermissionDenied}, // another plugin's root
		{"/etc/sudoers.d/zz", sdkerr.PermissionDenied, sdkerr.PermissionDenied},
		{root + "x/alice", sdkerr.PermissionDenied, sdkerr.PermissionDenied},
		{root + "/../etc", sdkerr.InvalidArgument, sdkerr.InvalidArgument},
		{"relative", sdkerr.InvalidArgument, sdkerr.InvalidArgument},
	} {
		_, err := f.Path("path", tc.p)
		if !is(err, tc.path) {
			t.Errorf("Path(%s): %v, want %q", tc.p, err, tc.path)
		}
		_, err = f.Below("path", tc.p)
		if !is(err, tc.below) {
			t.Errorf("Below(%s): %v, want %q", tc.p, err, tc.below)
		}
	}
}

func is(err error, code sdkerr.Code) bool {
	if code == "" {
		return err == nil
	}
	return sdkerr.Is(err, code)
}

func TestOwner(t *testing.T) {
	e := fsutiltest.New(t, "dir", t.TempDir())
	e.AddUser(t, "bob", 7001, true)
	e.AddUser(t, "eve", 7002, false) // not in the marker group
	e.AddUser(t, "twin", e.UID, false)
	e.AddGroup(t, "devs", 7300)
	uid, gid := uint32(7001), uint32(7001)
	for _, tc := range []struct {
		what          string
		uid, gid, mod uint32
		dir           bool
		code          sdkerr.Code
	}{
		{"managed file", uid, gid, 0o644, false, ""},
		{"managed dir setgid sticky", uid, gid, 0o3770, true, ""},
		{"setuid file", uid, gid, 0o4755, false, sdkerr.PermissionDenied},
		{"setuid dir", uid, gid, 0o4755, true, sdkerr.PermissionDenied},
		{"setgid file", uid, gid, 0o2755, false, sdkerr.PermissionDenied},
		{"type bits", uid, gid, 0o20644, false, sdkerr.InvalidArgument},
		{"root file", 0, gid, 0o644, false, sdkerr.PermissionDenied},
		{"root file root group", 0, 0, 0o600, false, sdkerr.PermissionDenied},
		{"shared group dir", 0, gid, 0o2770, true, ""},
		{"root dir writable by root alone", 0, 0, 0o755, true, ""},
		{"root dir writable by others", 0, 0, 0o775, true, sdkerr.PermissionDenied},
		{"root dir of an unmanaged group", 0, 7002, 0o2770, true, sdkerr.PermissionDenied},
		{"root dir of a new empty group", 0, 7300, 0o2770, true, ""},
		{"file of a new empty group", uid, 7300, 0o644, false, sdkerr.PermissionDenied},
		{"unmanaged uid", 7002, gid, 0o644, false, sdkerr.PermissionDenied},
		{"unknown uid", 9999, gid, 0o644, false, sdkerr.PermissionDenied},
		{"uid shared with an unmanaged account", e.UID, e.GID, 0o644, false, sdkerr.PermissionDenied},
		{"unmanaged gid", uid, 7002, 0o644, false, sdkerr.PermissionDenied},
		{"gid 0", uid, 0, 0o644, false, sdkerr.PermissionDenied},
	} {
		if err := e.Fence.Owner("/x", tc.uid, tc.gid, tc.mod, tc.dir); !is(err, tc.code) {
			t.Errorf("%s: %v, want %q", tc.what, err, tc.code)
		}
	}
}

// TestMachineIsReadFresh: an account added to the account files after
// the fence was built is judged by the next call.
func TestMachineIsReadFresh(t *testing.T) {
	e := fsutiltest.New(t, "dir", t.TempDir())
	if err := e.Fence.Owner("/x", 7100, 7100, 0o644, false); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Fatalf("unknown account: %v", err)
	}
	e.AddUser(t, "carol", 7100, true)
	if err := e.Fence.Owner("/x", 7100, 7100, 0o644, false); err != nil {
		t.Fatalf("an account made a moment ago: %v", err)
	}
}

func TestChangeable(t *testing.T) {
	root := t.TempDir()
	e := fsutiltest.New(t, "acl", root)
	f := filepath.Join(root, "f")
	os.WriteFile(f, nil, 0o600)
	os.Link(f, filepath.Join(root, "hard"))
	unix.Mkfifo(filepath.Join(root, "fifo"), 0o600)
	stat := func(p string) *unix.Stat_t {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		return &st
	}
	st := stat(f)
	if err := e.Fence.Changeable(f, st); (st.Uid == e.UID) != (err == nil) {
		t.Errorf("a hard-linked file owned by uid %d: %v", st.Uid, err)
	}
	st.Uid = 0
	if err := e.Fence.Changeable(f, st); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("a hard-linked file of root: %v", err)
	}
	st.Nlink = 1
	if err := e.Fence.Changeable(f, st); err != nil {
		t.Errorf("a file with one link: %v", err)
	}
	if err := e.Fence.Changeable(root, stat(root)); err != nil {
		t.Errorf("a directory: %v", err)
	}
	if err := e.Fence.Changeable("fifo", stat(filepath.Join(root, "fifo"))); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("a FIFO: %v", err)
	}
}

func TestQualifiers(t *testing.T) {
	e := fsutiltest.New(t, "posixacl", t.TempDir())
	e.AddUser(t, "bob", 7001, true)
	e.AddUser(t, "driver", 990, false)
	e.AddUser(t, "eve", 7002, false)
	e.AddGroup(t, "devs", 7300)
	for _, tc := range []struct {
		tag  acl.Tag
		q    string
		want string
		code sdkerr.Code
	}{
		{acl.TagUser, "bob", "7001", ""},
		{acl.TagUser, "7001", "7001", ""},
		{acl.TagUser, "driver", "990", ""},
		{acl.TagUser, "eve", "", sdkerr.PermissionDenied},
		{acl.TagUser, "root", "", sdkerr.PermissionDenied},
		{acl.TagUser, "0", "", sdkerr.PermissionDenied},
		{acl.TagUser, "nobody-here", "", sdkerr.NotFound},
		{acl.TagGroup, "bob", "7001", ""},
		{acl.TagGroup, "driver", "", sdkerr.PermissionDenied},
		{acl.TagGroup, "root", "", sdkerr.PermissionDenied},
		{acl.TagGroup, fsutiltest.Marker, "65000", ""}, // only managed members
		{acl.TagGroup, "devs", "7300", ""},             // made a moment ago, no member yet
	} {
		got, err := e.Fence.Qualifiers([]acl.Entry{{Tag: acl.TagOther, Perms: "r"}, {Tag: tc.tag, Qualifier: tc.q, Perms: "r"}})
		if !is(err, tc.code) || err == nil && got[1].Qualifier != tc.want {
			t.Errorf("%s:%s: %v %v, want %q %q", tc.tag, tc.q, got, err, tc.want, tc.code)
		}
	}
}

// TestClosedFence: a policy that cannot be used makes the fence refuse
// everything and the plugin's Probe say why.
func TestClosedFence(t *testing.T) {
	p := policy.Defaults(t.TempDir())
	p.HomeRoots = []string{"/"}
	f := fsutil.NewFence("dir", p, t.TempDir())
	if f.Err() == nil {
		t.Fatal("a policy that fences nothing was accepted")
	}
	if _, err := f.Path("path", "/home/alice"); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("Path: %v", err)
	}
	if err := f.Owner("/home/alice", 1000, 1000, 0o644, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("Owner: %v", err)
	}
	res := f.Probe(nil)(context.Background())
	if res.Ready || res.Reason == "" {
		t.Errorf("Probe: %+v", res)
	}
}
