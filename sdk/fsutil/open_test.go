package fsutil

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// bothWays runs fn with openat2 and with the O_NOFOLLOW walk that stands
// in for it on kernels without openat2.
// ok is the code of a call that succeeds, in the tables below.
const ok sdkerr.Code = ""

func bothWays(t *testing.T, fn func(t *testing.T)) {
	for _, walk := range []bool{false, true} {
		name := "openat2"
		if walk {
			name = "walk"
		}
		t.Run(name, func(t *testing.T) {
			old := noOpenat2.Load()
			noOpenat2.Store(walk)
			t.Cleanup(func() { noOpenat2.Store(old) })
			fn(t)
		})
	}
}

func TestOpenBeneath(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		root := t.TempDir()
		outside := t.TempDir()
		os.MkdirAll(filepath.Join(root, "a", "b"), 0o755)
		os.WriteFile(filepath.Join(root, "a", "b", "f"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600)
		os.Symlink(outside, filepath.Join(root, "a", "out"))            // absolute, leaves the root
		os.Symlink("b", filepath.Join(root, "a", "rel"))                // relative, stays inside: still refused
		os.Symlink("/proc/self/root/etc", filepath.Join(root, "magic")) // through a magic link
		os.Symlink(filepath.Join(root, "a", "b", "f"), filepath.Join(root, "a", "flink"))
		for _, tc := range []struct {
			path string
			code sdkerr.Code
		}{
			{"a/b/f", ok},
			{"a", ok},
			{"", ok}, // the root itself
			{"a/out/secret", sdkerr.FailedPrecondition},
			{"a/out", sdkerr.FailedPrecondition},
			{"a/rel/f", sdkerr.FailedPrecondition},
			{"a/flink", sdkerr.FailedPrecondition},
			{"magic/passwd", sdkerr.FailedPrecondition},
			{"a/missing/f", sdkerr.NotFound},
		} {
			path := filepath.Join(root, tc.path)
			fd, err := OpenBeneath(root, path, unix.O_RDONLY, 0)
			if err == nil {
				unix.Close(fd)
			}
			if tc.code == ok && err != nil || tc.code != ok && !sdkerr.Is(err, tc.code) {
				t.Errorf("OpenBeneath(%s): %v, want %s", tc.path, err, tc.code)
			}
		}
		if _, err := OpenBeneath(root, filepath.Join(outside, "secret"), unix.O_RDONLY, 0); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("a path outside the root: %v", err)
		}
		if _, err := OpenBeneath(root, root+"/a/../../x", unix.O_RDONLY, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("an unclean path: %v", err)
		}
	})
}

func TestRel(t *testing.T) {
	for _, tc := range []struct {
		root, path, rel string
		ok              bool
	}{
		{"/home", "/home", ".", true},
		{"/home", "/home/a/b", "a/b", true},
		{"/home", "/homer", "", false},
		{"/home", "/etc", "", false},
		{"/", "/etc/passwd", "etc/passwd", true},
		{"/", "/", ".", true},
	} {
		if rel, ok := Rel(tc.root, tc.path); rel != tc.rel || ok != tc.ok {
			t.Errorf("Rel(%s, %s) = %q %v", tc.root, tc.path, rel, ok)
		}
	}
}

// TestWritesNeverLeaveTheRoot: every writer refuses a directory swapped
// for a symlink at any depth, whichever way paths are resolved.
func TestWritesNeverLeaveTheRoot(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		root, outside := t.TempDir(), t.TempDir()
		os.MkdirAll(filepath.Join(root, "home", "alice"), 0o755)
		os.Symlink(outside, filepath.Join(root, "home", "alice", ".ssh"))
		uid, gid := os.Getuid(), os.Getgid()
		through := filepath.Join(root, "home", "alice", ".ssh", "authorized_keys")
		if err := WriteFileBeneath(root, through, []byte("x"), uid, gid, 0o600, true); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("WriteFileBeneath through a symlink: %v", err)
		}
		if err := EnsureDirBeneath(root, filepath.Join(root, "home", "alice", ".ssh", "d"), uid, gid, 0o700); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("EnsureDirBeneath through a symlink: %v", err)
		}
		if _, _, err := ReadFileBeneath(root, through, 10); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("ReadFileBeneath through a symlink: %v", err)
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Fatalf("written outside the root: %v", entries)
		}
	})
}
