package fsutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestReadFileNoFollow(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("data"), 0o600)
	if b, st, err := ReadFileNoFollow(f, 10); err != nil || string(b) != "data" || st.Size != 4 {
		t.Fatalf("read: %q %v", b, err)
	}
	os.Symlink(f, filepath.Join(dir, "link"))
	os.Link(f, filepath.Join(dir, "hard"))
	os.Mkdir(filepath.Join(dir, "d"), 0o700)
	os.Symlink(dir, filepath.Join(dir, "dlink"))
	for name, code := range map[string]sdkerr.Code{
		"link": sdkerr.FailedPrecondition, "hard": sdkerr.FailedPrecondition, "d": sdkerr.FailedPrecondition,
		"dlink/f": sdkerr.FailedPrecondition, "missing": sdkerr.NotFound,
	} {
		if _, _, err := ReadFileNoFollow(filepath.Join(dir, name), 10); !sdkerr.Is(err, code) {
			t.Errorf("%s: %v, want %s", name, err, code)
		}
	}
	os.Remove(filepath.Join(dir, "hard"))
	if _, _, err := ReadFileNoFollow(f, 3); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("too large: %v", err)
	}
}
