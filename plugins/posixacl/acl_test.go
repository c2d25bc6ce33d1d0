package posixacl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// aclDir is a temporary directory on a filesystem with POSIX ACLs; the
// test skips elsewhere.
func aclDir(t testing.TB) string {
	dir := t.TempDir()
	if ok, err := xattrSupported(dir); err != nil || !ok {
		t.Skipf("%s has no POSIX ACLs (%v)", dir, err)
	}
	return dir
}

// newTestPlugin returns the plugin within a fence of root, where home is
// the home root the guard knows (root itself, or one elsewhere).
func newTestPlugin(t testing.TB, home, root string) *PosixACL {
	env := fsutiltest.NewWith(t, "posixacl", func(p *policy.Policy) {
		p.Roots = map[string][]string{"posixacl": {root}}
	}, home)
	return &PosixACL{Guard: aclfs.Guard{Fence: env.Fence, HomeOf: func(uint32) string { return "" }}}
}

func self() string { return strconv.Itoa(os.Getuid()) }

var ownerUID, ownerGID = fsutiltest.Owner()

func TestGrantGetRevoke(t *testing.T) {
	dir := aclDir(t)
	p, ctx := newTestPlugin(t, "/nonexistent", dir), context.Background()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o640)
	e := acl.Entry{Tag: acl.TagUser, Qualifier: self(), Perms: "xr"}
	for range 2 {
		if err := p.Grant(ctx, file, []acl.Entry{e}, false); err != nil {
			t.Fatal(err)
		}
	}
	l, err := p.Get(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(l.Access, func(o acl.Entry) bool { return o.Tag == acl.TagUser && o.Perms == "r-x" }) {
		t.Fatalf("access %v lacks the grant", l.Access)
	}
	if !slices.Contains(l.Access, acl.Entry{Tag: acl.TagMask, Perms: "r-x"}) {
		t.Fatalf("access %v lacks mask r-x", l.Access)
	}
	if getfacl, err := exec.LookPath("getfacl"); err == nil {
		out, _ := exec.Command(getfacl, "-cn", "--", file).Output()
		if !strings.Contains(string(out), "user:"+self()+":r-x") {
			t.Fatalf("getfacl shows:\n%s", out)
		}
	}
	for range 2 {
		if err := p.Revoke(ctx, file, []acl.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	l, _ = p.Get(ctx, file)
	if slices.ContainsFunc(l.Access, func(o acl.Entry) bool { return o.Tag == acl.TagUser }) {
		t.Fatalf("entry still there: %v", l.Access)
	}
	if err := p.Revoke(ctx, filepath.Join(dir, "gone"), []acl.Entry{e}); err != nil {
		t.Fatalf("revoke on a missing path: %v", err)
	}
}

func TestDefaultEntries(t *testing.T) {
	dir := aclDir(t)
	p, ctx := newTestPlugin(t, "/nonexistent", dir), context.Background()
	sub := filepath.Join(dir, "d")
	os.Mkdir(sub, 0o750)
	os.Chmod(sub, 0o750)
	d := acl.Entry{Tag: acl.TagGroup, Qualifier: strconv.Itoa(os.Getgid()), Perms: "rx", Default: true}
	if err := p.Grant(ctx, sub, []acl.Entry{d}, false); err != nil {
		t.Fatal(err)
	}
	l, _ := p.Get(ctx, sub)
	want := []string{"user_obj::rwx", "group_obj::r-x", "group:" + groupName() + ":r-x", "mask::r-x", "other::---"}
	if got := render(l.Default); !slices.Equal(got, want) {
		t.Fatalf("default %v, want %v", got, want)
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	if err := p.Grant(ctx, file, []acl.Entry{d}, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("default entry on a file: %v", err)
	}
	if err := p.Revoke(ctx, sub, []acl.Entry{{Tag: acl.TagOther, Default: true}}); err != nil {
		t.Fatal(err)
	}
	if l, _ := p.Get(ctx, sub); len(l.Default) != 0 {
		t.Fatalf("default ACL left: %v", l.Default)
	}
	if err := p.Revoke(ctx, sub, []acl.Entry{{Tag: acl.TagOther}}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Fatalf("revoke of other: %v", err)
	}
}

func groupName() string { return nameOf(tagGroup, uint32(os.Getgid())) }

func render(l []acl.Entry) []string {
	var out []string
	for _, e := range l {
		out = append(out, string(e.Tag)+":"+e.Qualifier+":"+e.Perms)
	}
	return out
}

func TestSymlinksRefused(t *testing.T) {
	dir := aclDir(t)
	p, ctx := newTestPlugin(t, "/nonexistent", dir), context.Background()
	target := filepath.Join(dir, "target")
	os.Mkdir(target, 0o700)
	os.WriteFile(filepath.Join(target, "f"), nil, 0o600)
	os.Symlink(target, filepath.Join(dir, "link"))
	os.Symlink(filepath.Join(target, "f"), filepath.Join(dir, "flink"))
	e := []acl.Entry{{Tag: acl.TagOther, Perms: "r"}}
	for _, path := range []string{filepath.Join(dir, "link"), filepath.Join(dir, "flink"), filepath.Join(dir, "link", "f")} {
		if err := p.Grant(ctx, path, e, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("Grant(%s): %v", path, err)
		}
		if _, err := p.Get(ctx, path); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("Get(%s): %v", path, err)
		}
		if err := p.SetOwnership(ctx, path, ownerUID, ownerGID, 0o777); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("SetOwnership(%s): %v", path, err)
		}
	}
	if st, _ := os.Stat(filepath.Join(target, "f")); st.Mode().Perm() != 0o600 {
		t.Fatalf("the target changed: %v", st.Mode())
	}
}

func TestRecursive(t *testing.T) {
	dir := aclDir(t)
	p, ctx := newTestPlugin(t, "/nonexistent", dir), context.Background()
	outside := filepath.Join(dir, "outside")
	os.WriteFile(outside, nil, 0o600)
	tree := filepath.Join(dir, "tree")
	for _, d := range []string{"a/b", ".ssh"} {
		os.MkdirAll(filepath.Join(tree, d), 0o700)
	}
	os.WriteFile(filepath.Join(tree, "a/b/f"), nil, 0o600)
	os.WriteFile(filepath.Join(tree, ".ssh/id_ed25519"), nil, 0o600)
	os.Symlink(outside, filepath.Join(tree, "a/escape"))
	entries := []acl.Entry{{Tag: acl.TagUser, Qualifier: self(), Perms: "rx"}, {Tag: acl.TagUser, Qualifier: self(), Perms: "rx", Default: true}}
	if err := p.Grant(ctx, tree, entries, true); err != nil {
		t.Fatal(err)
	}
	has := func(path string, def bool) bool {
		l, err := p.Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		list := l.Access
		if def {
			list = l.Default
		}
		return slices.ContainsFunc(list, func(e acl.Entry) bool { return e.Tag == acl.TagUser })
	}
	for path, want := range map[string][2]bool{
		tree: {true, true}, filepath.Join(tree, "a/b"): {true, true}, filepath.Join(tree, "a/b/f"): {true, false},
		filepath.Join(tree, ".ssh"): {false, false}, filepath.Join(tree, ".ssh/id_ed25519"): {false, false}, outside: {false, false},
	} {
		if got := [2]bool{has(path, false), has(path, true)}; got != want {
			t.Errorf("%s: access/default entries %v, want %v", path, got, want)
		}
	}
}

func TestGuardedPaths(t *testing.T) {
	dir := aclDir(t)
	p, ctx := newTestPlugin(t, dir, dir), context.Background()
	home := filepath.Join(dir, "alice")
	ssh := filepath.Join(home, ".ssh")
	keys := filepath.Join(ssh, "authorized_keys")
	os.MkdirAll(ssh, 0o700)
	os.Chmod(home, 0o755)
	os.WriteFile(keys, nil, 0o600)
	write := acl.Entry{Tag: acl.TagUser, Qualifier: self(), Perms: "rwx"}
	for _, path := range []string{home, ssh, keys} {
		for _, e := range []acl.Entry{write, {Tag: acl.TagOther, Perms: "rw"}, {Tag: acl.TagGroupObj, Perms: "rwx"}} {
			if err := p.Grant(ctx, path, []acl.Entry{e}, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
				t.Errorf("Grant(%s, %v): %v", path, e, err)
			}
		}
		if err := p.SetOwnership(ctx, path, ownerUID, ownerGID, 0o775); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("SetOwnership(%s, 0775): %v", path, err)
		}
	}
	d := write
	d.Default = true
	if err := p.Grant(ctx, home, []acl.Entry{d}, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("default write on a home: %v", err)
	}
	traverse := acl.Entry{Tag: acl.TagUser, Qualifier: self(), Perms: "x"}
	if err := p.Grant(ctx, home, []acl.Entry{traverse}, false); err != nil {
		t.Fatalf("traverse on a home: %v", err)
	}
	if st, _ := os.Stat(home); st.Mode().Perm()&0o022 != 0 {
		t.Fatalf("home mode %v", st.Mode())
	}
}

// TestSetOwnership: setgid is kept on a directory; the fence refuses it
// on a file, setuid anywhere, and an owner that is not managed.
func TestSetOwnership(t *testing.T) {
	dir := t.TempDir()
	p, ctx := newTestPlugin(t, "/nonexistent", dir), context.Background()
	uid, gid := fsutiltest.Owner()
	d := filepath.Join(dir, "d")
	os.Mkdir(d, 0o700)
	if err := p.SetOwnership(ctx, d, uid, gid, 0o2750); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(d); st.Mode()&os.ModePerm != 0o750 || st.Mode()&os.ModeSetgid == 0 {
		t.Fatalf("mode %v", st.Mode())
	}
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o600)
	for what, o := range map[string][3]uint32{
		"setgid file": {uid, gid, 0o2750}, "setuid file": {uid, gid, 0o4755}, "setuid dir": {uid, gid, 0o4755},
		"root file": {0, gid, 0o644}, "unmanaged uid": {1, gid, 0o644}, "unmanaged gid": {uid, 1, 0o644},
	} {
		path := f
		if strings.HasSuffix(what, "dir") {
			path = d
		}
		if err := p.SetOwnership(ctx, path, o[0], o[1], o[2]); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: want permission_denied, got %v", what, err)
		}
	}
	if st, _ := os.Stat(f); st.Mode() != 0o600 {
		t.Fatalf("a refused call changed the file: %v", st.Mode())
	}
}
