package osutil

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
)

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), make([]byte, 256<<10), 0o644)
	os.Link(filepath.Join(dir, "a", "b", "f"), filepath.Join(dir, "hard"))
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "big"), make([]byte, 1<<20), 0o644)
	os.Symlink(outside, filepath.Join(dir, "link"))
	fd, err := fsutil.OpenDirNoFollow(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	got, err := DiskUsage(fd)
	if err != nil {
		t.Fatal(err)
	}
	// The file once (not twice through the hard link), not the 1 MiB
	// behind the symlink, plus a few directory blocks.
	if got < 256<<10 || got >= 512<<10 {
		t.Errorf("DiskUsage = %d, want 256 KiB and some directory blocks", got)
	}
	names, err := ReadDirNames(fd)
	if err != nil || len(names) != 3 {
		t.Errorf("ReadDirNames = %v, %v", names, err)
	}
}
