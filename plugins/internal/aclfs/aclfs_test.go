package aclfs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// guard is a Guard within a fence whose root (and home root) is dir.
func guard(t *testing.T, dir string) Guard {
	return NewGuard(fsutiltest.New(t, "aclfs", dir).Fence)
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	g := guard(t, dir)
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o600)
	os.Symlink(filepath.Join(dir, "f"), filepath.Join(dir, "link"))
	os.Symlink(dir, filepath.Join(dir, "dlink"))
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	for name, code := range map[string]sdkerr.Code{
		"link": sdkerr.FailedPrecondition, "dlink/f": sdkerr.FailedPrecondition,
		"fifo": sdkerr.FailedPrecondition, "missing": sdkerr.NotFound,
	} {
		if _, err := g.Open(filepath.Join(dir, name)); !sdkerr.Is(err, code) {
			t.Errorf("Open(%s): %v, want %s", name, err, code)
		}
	}
	for _, p := range []string{dir, t.TempDir(), "/etc/passwd"} {
		if _, err := g.Open(p); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("Open(%s) outside or at the root: %v", p, err)
		}
	}
	n, err := g.Open(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Chmod(0o640); err != nil || n.Mode() != 0o640 {
		t.Fatalf("Chmod: %v %o", err, n.Mode())
	}
}

func TestWalk(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "tree")
	outside := t.TempDir()
	for _, d := range []string{"a/b", ".ssh/x"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	os.WriteFile(filepath.Join(dir, "a/b/f"), nil, 0o600)
	os.Symlink(outside, filepath.Join(dir, "a/out"))
	unix.Mkfifo(filepath.Join(dir, "a/fifo"), 0o600)
	root, err := guard(t, parent).Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var seen []string
	err = root.Walk(func(n *Node) error {
		rel, _ := filepath.Rel(dir, n.Path)
		seen = append(seen, rel)
		return nil
	}, Enter)
	slices.Sort(seen)
	if want := []string{".", "a", "a/b", "a/b/f"}; err != nil || !slices.Equal(seen, want) {
		t.Fatalf("walked %v (%v), want %v", seen, err, want)
	}
}

func TestGuardReason(t *testing.T) {
	dir := t.TempDir()
	env := fsutiltest.NewWith(t, "aclfs", func(p *policy.Policy) { p.Roots = map[string][]string{"aclfs": {dir}} }, filepath.Join(dir, "homes"))
	g := Guard{Fence: env.Fence, HomeOf: func(uid uint32) string { return filepath.Join(dir, "srv", "bob") }}
	for _, d := range []string{"homes/alice/.ssh", "homes/alice/src", "srv/bob"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	os.WriteFile(filepath.Join(dir, "homes/alice/src/authorized_keys2"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "homes/alice/.ssh/config"), nil, 0o600)
	for path, guarded := range map[string]bool{
		"homes/alice": true, "homes/alice/.ssh": true, "homes/alice/.ssh/config": true,
		"homes/alice/src/authorized_keys2": true, "srv/bob": true, "homes/alice/src": false, "srv": false,
	} {
		n, err := g.Open(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Reason(n) != ""; got != guarded {
			t.Errorf("%s: guarded %v, want %v", path, got, guarded)
		}
		if err := g.CheckMode(n, 0o755); err != nil {
			t.Errorf("%s: 0755 refused: %v", path, err)
		}
		if err := g.CheckMode(n, 0o757); (err != nil) != guarded {
			t.Errorf("%s: 0757: %v", path, err)
		}
		n.Close()
	}
}

func TestModeEntries(t *testing.T) {
	want := []acl.Entry{{Tag: acl.TagUserObj, Perms: "rwx"}, {Tag: acl.TagGroupObj, Perms: "r-x"}, {Tag: acl.TagOther, Perms: "---"}}
	if got := ModeEntries(0o4750); !slices.Equal(got, want) {
		t.Fatalf("ModeEntries: %v", got)
	}
	got := ApplyModeEntries(0o4750, []acl.Entry{{Tag: acl.TagOther, Perms: "xr"}, {Tag: acl.TagUserObj, Perms: "r"}})
	if got != 0o4455 {
		t.Fatalf("ApplyModeEntries: %o", got)
	}
	if PermBits("-wx") != 3 || PermString(5) != "r-x" {
		t.Fatal("perm conversion")
	}
}
