//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// A home that was there before a create: what a failed or refused create
// must leave byte for byte.

// plantedHome is a home planted before a create, of a kind and an owner.
type plantedHome struct {
	path     string
	kind     string // "subvolume" or "directory"
	uid, gid int
}

// plantHome makes path as a btrfs subvolume or a plain directory holding
// files and directories of various modes, a symlink, and one root-owned
// file, everything else owned by uid:gid.
func plantHome(t *testing.T, path, kind string, uid, gid int) plantedHome {
	t.Helper()
	if kind == "subvolume" {
		mustRun(t, "btrfs", "subvolume", "create", path)
	} else if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]os.FileMode{
		"thesis.tex": 0o644, ".bashrc": 0o644, "bin/run.sh": 0o755, "secret/key": 0o600, "deep/a/b/c.txt": 0o640,
	}
	for name, mode := range files {
		p := filepath.Join(path, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("the content of "+name+strings.Repeat(".", len(name)*97)), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(path, "secret"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("thesis.tex", filepath.Join(path, "latest")); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "root-owned"), []byte("root's"), 0o600); err != nil {
		t.Fatal(err)
	}
	return plantedHome{path: path, kind: kind, uid: uid, gid: gid}
}

// remove deletes the planted home at the end of a test.
func (h plantedHome) remove(t *testing.T) {
	t.Helper()
	if h.kind == "subvolume" {
		if _, err := os.Lstat(h.path); err == nil {
			mustRun(t, "btrfs", "subvolume", "delete", h.path)
			dropStaleQgroups(t)
		}
		return
	}
	if err := os.RemoveAll(h.path); err != nil {
		t.Error(err)
	}
}

// tree describes every entry below root: type and mode, owner, and the
// sha256 of a file's bytes or a link's target; for root itself also
// whether it is a btrfs subvolume (inode 256).
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:])
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		}
		if p == root {
			desc += fmt.Sprintf(" ino %d", st.Ino)
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// sameTree reports every entry of before that after lacks or has changed,
// and, unless only is set, every entry after added.
func sameTree(t *testing.T, root string, before, after map[string]string, only bool) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if after[k] != before[k] {
			t.Errorf("%s/%s: was %q, now %q", root, k, before[k], after[k])
		}
	}
	if only {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if _, ok := before[k]; !ok {
			t.Errorf("%s/%s: added (%s)", root, k, after[k])
		}
	}
}

// homeRootEntries lists the names in /home.
func homeRootEntries(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/home")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// otherAccount makes an unmanaged account (not in the marker group) and
// returns its uid and gid; it is removed at the end of the test.
func otherAccount(t *testing.T, name string) (int, int) {
	t.Helper()
	mustRun(t, "useradd", "--no-create-home", "--", name)
	t.Cleanup(func() { _ = exec.Command("userdel", "--", name).Run() })
	var uid, gid int
	if _, err := fmt.Sscan(strings.TrimSpace(mustRun(t, "id", "-u", "--", name)), &uid); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(strings.TrimSpace(mustRun(t, "id", "-g", "--", name)), &gid); err != nil {
		t.Fatal(err)
	}
	return uid, gid
}

// dropStaleQgroups waits for the subvolumes a test deleted itself to be
// gone and removes their qgroups, which the kernel would otherwise drop
// some time later, under the next test's comparison of the machine. The
// cleaner drops deleted subvolumes after a transaction commit, up to 30 s
// away: one is forced first (50 subvolumes were gone in 1 s, not 32).
func dropStaleQgroups(t *testing.T) {
	t.Helper()
	mustRun(t, "btrfs", "filesystem", "sync", "/home")
	mustRun(t, "btrfs", "subvolume", "sync", "/home")
	mustRun(t, "btrfs", "qgroup", "clear-stale", "/home")
}
