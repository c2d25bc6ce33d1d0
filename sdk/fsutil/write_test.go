package fsutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, content := range []string{"one", "two"} {
		if err := WriteFileAtomic(p, []byte(content), os.Getuid(), os.Getgid(), 0o640, content == "one"); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(got) != content || fi.Mode().Perm() != 0o640 {
			t.Fatalf("got %q %v", got, fi.Mode())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestNoSymlinkFollowed(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.Mkdir(target, 0o755)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	err := WriteFileAtomic(filepath.Join(link, "f"), []byte("x"), os.Getuid(), os.Getgid(), 0o600, true)
	if !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("write through a symlinked dir: %v", err)
	}
	if err := EnsureDir(filepath.Join(link, "sub"), os.Getuid(), os.Getgid(), 0o700); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("mkdir through a symlinked dir: %v", err)
	}
	if err := EnsureDir(link, os.Getuid(), os.Getgid(), 0o700); err == nil {
		t.Fatal("EnsureDir accepted a symlink as the directory")
	}
	// A symlink at the file's own place is replaced, not written through.
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	os.Symlink(victim, filepath.Join(target, "f"))
	if err := WriteFileAtomic(filepath.Join(target, "f"), []byte("new"), os.Getuid(), os.Getgid(), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("wrote through a symlink")
	}
}
