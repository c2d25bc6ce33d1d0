package mode

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// newTestMode returns the plugin within a fence of root, where home is
// the home root the guard knows (root itself, or one elsewhere).
func newTestMode(t *testing.T, home, root string) *Mode {
	env := fsutiltest.NewWith(t, "mode", func(p *policy.Policy) {
		p.Roots = map[string][]string{"mode": {root}}
	}, home)
	return &Mode{Guard: aclfs.Guard{Fence: env.Fence}}
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode() & (os.ModePerm | os.ModeSetgid | os.ModeSetuid | os.ModeSticky)
}

func TestGrantSetsModeBits(t *testing.T) {
	dir := t.TempDir()
	m, ctx := newTestMode(t, "/nonexistent", dir), context.Background()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o600)
	syscall.Chmod(f, 0o2600)
	entries := []acl.Entry{{Tag: acl.TagGroupObj, Perms: "rx"}, {Tag: acl.TagOther, Perms: "r"}}
	for range 2 {
		if err := m.Grant(ctx, f, entries, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := perm(t, f); got != 0o654|os.ModeSetgid {
		t.Fatalf("mode %v", got)
	}
	l, err := m.Get(ctx, f)
	want := []acl.Entry{{Tag: acl.TagUserObj, Perms: "rw-"}, {Tag: acl.TagGroupObj, Perms: "r-x"}, {Tag: acl.TagOther, Perms: "r--"}}
	if err != nil || !slices.Equal(l.Access, want) || len(l.Default) != 0 {
		t.Fatalf("Get: %v %v", l, err)
	}
}

func TestNamedEntriesRefused(t *testing.T) {
	dir := t.TempDir()
	m, ctx := newTestMode(t, "/nonexistent", dir), context.Background()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o600)
	for _, e := range []acl.Entry{
		{Tag: acl.TagUser, Qualifier: "0", Perms: "r"},
		{Tag: acl.TagGroup, Qualifier: "0", Perms: "r"},
		{Tag: acl.TagMask, Perms: "r"},
		{Tag: acl.TagOther, Perms: "r", Default: true},
	} {
		err := m.Grant(ctx, f, []acl.Entry{{Tag: acl.TagOther, Perms: "rwx"}, e}, false)
		if !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("Grant(%v): %v", e, err)
		}
		if err := m.Revoke(ctx, f, []acl.Entry{e}); e.Tag != acl.TagOther && err != nil {
			t.Errorf("Revoke(%v): %v", e, err)
		}
	}
	if got := perm(t, f); got != 0o600 {
		t.Fatalf("a refused request changed the mode: %v", got)
	}
	if err := m.Revoke(ctx, f, []acl.Entry{{Tag: acl.TagOther}}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Fatalf("Revoke(other): %v", err)
	}
}

func TestRecursiveAndGuards(t *testing.T) {
	dir := t.TempDir()
	m, ctx := newTestMode(t, dir, dir), context.Background()
	home := filepath.Join(dir, "alice")
	os.MkdirAll(filepath.Join(home, "src"), 0o700)
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, "src/f"), nil, 0o600)
	outside := filepath.Join(dir, "outside")
	os.WriteFile(outside, nil, 0o600)
	os.Symlink(outside, filepath.Join(home, "src/link"))
	if err := m.Grant(ctx, home, []acl.Entry{{Tag: acl.TagOther, Perms: "rwx"}}, true); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("write for other on a home: %v", err)
	}
	if err := m.Grant(ctx, home, []acl.Entry{{Tag: acl.TagOther, Perms: "rx"}}, true); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		home: 0o705, filepath.Join(home, "src"): 0o705, filepath.Join(home, "src/f"): 0o605,
		filepath.Join(home, ".ssh"): 0o700, outside: 0o600,
	} {
		if got := perm(t, path); got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	if err := m.Grant(ctx, filepath.Join(home, "src/link"), []acl.Entry{{Tag: acl.TagOther, Perms: "r"}}, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("Grant through a symlink: %v", err)
	}
	uid, gid := fsutiltest.Owner()
	if err := m.SetOwnership(ctx, filepath.Join(home, ".ssh"), uid, gid, 0o770); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("SetOwnership(.ssh, 0770): %v", err)
	}
}
