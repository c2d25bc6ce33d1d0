package state

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/state/storetest"
)

// TestBrokenFilesAreErrors: a state whose Badger files were lost or
// damaged — KEYREGISTRY deleted (Badger panicked inside Open), MANIFEST
// deleted or truncated, a value log emptied — fails to open with a clear
// error naming the data dir, never a panic, and leaves the dir lock free
// for the next attempt.
func TestBrokenFilesAreErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, bdir string)
	}{
		{"KEYREGISTRY deleted", func(t *testing.T, bdir string) { remove(t, filepath.Join(bdir, "KEYREGISTRY")) }},
		{"KEYREGISTRY truncated", func(t *testing.T, bdir string) { truncate(t, filepath.Join(bdir, "KEYREGISTRY")) }},
		{"MANIFEST truncated", func(t *testing.T, bdir string) { truncate(t, filepath.Join(bdir, "MANIFEST")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openAt(t, dir, testSecret)
			storetest.Put(t, s, "user/alice", `{"uid":1001}`)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, filepath.Join(dir, badgerSubdir))
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Open panicked: %v", r)
					}
				}()
				var s2 *Store
				s2, err = Open(Options{Dir: dir, Secret: testSecret})
				if err == nil {
					s2.Close()
				}
			}()
			if err == nil {
				t.Fatal("a broken state opened")
			}
			if !core.IsCode(err, core.FailedPrecondition) && !core.IsCode(err, core.Internal) {
				t.Errorf("error without a code: %v", err)
			}
			t.Logf("%v", err)
			if err := lockFree(dir); err != nil {
				t.Errorf("the data dir lock was left held: %v", err)
			}
		})
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	if err := os.Truncate(path, 3); err != nil {
		t.Fatal(err)
	}
}

// lockFree takes and drops the data dir lock.
func lockFree(dir string) error {
	l, err := lockDir(dir)
	if err != nil {
		return err
	}
	l.release()
	return nil
}
