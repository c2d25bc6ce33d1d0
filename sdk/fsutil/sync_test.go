package fsutil

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestSyncPaths(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	file := filepath.Join(sub, "f")
	if err := WriteFileAtomic(file, []byte("x"), os.Getuid(), os.Getgid(), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if err := SyncPaths([]string{file, sub, dir}); err != nil {
		t.Fatalf("file and dirs: %v", err)
	}
	if err := SyncPaths(nil); err != nil {
		t.Fatalf("nothing: %v", err)
	}
	os.Symlink(file, filepath.Join(dir, "filelink"))
	os.Symlink(sub, filepath.Join(dir, "dirlink"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	for _, tc := range []struct {
		path string
		code sdkerr.Code
	}{
		{filepath.Join(dir, "missing"), sdkerr.NotFound},
		{filepath.Join(dir, "missing", "f"), sdkerr.NotFound},
		{filepath.Join(dir, "filelink"), sdkerr.InvalidArgument},
		{filepath.Join(dir, "dirlink"), sdkerr.InvalidArgument},
		{filepath.Join(dir, "dirlink", "f"), sdkerr.FailedPrecondition},
		{filepath.Join(dir, "fifo"), sdkerr.InvalidArgument},
		{"/dev/null", sdkerr.InvalidArgument},
		{dir + "/sub/../sub", sdkerr.InvalidArgument},
		{"relative", sdkerr.InvalidArgument},
	} {
		if err := SyncPaths([]string{file, tc.path}); !sdkerr.Is(err, tc.code) {
			t.Errorf("SyncPaths(%s): want %s, got %v", tc.path, tc.code, err)
		}
	}
}
