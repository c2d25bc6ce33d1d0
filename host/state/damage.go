package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/threefoldtech/hero_codescalers/core"
)

// A state whose files were lost or damaged must fail to open with an
// error an admin can act on, never a panic. Badger checks most damage
// itself and returns an error, but a missing KEYREGISTRY beside existing
// tables makes it start a fresh registry, decrypt the tables with the
// wrong keys and panic — inside a goroutine of its own, where no recover
// of ours can reach. So the files are checked before Badger sees them, and
// a panic Badger raises in the opening goroutine is turned into an error.

// checkFiles refuses a Badger dir that holds tables or a manifest but not
// the key registry they were encrypted with.
func checkFiles(dir, bdir string) error {
	entries, err := os.ReadDir(bdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return core.Wrap(err, core.FailedPrecondition, "cannot read the state in %s: %v", dir, err)
	}
	var data []string
	registry := false
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == badger.KeyRegistryFileName:
			registry = true
		case name == "MANIFEST", strings.HasSuffix(name, ".sst"), strings.HasSuffix(name, ".vlog"):
			data = append(data, name)
		}
	}
	if len(data) > 0 && !registry {
		return core.Errorf(core.FailedPrecondition,
			"the state in %s is damaged: %s is missing, so its %d data files (%s…) cannot be decrypted; "+
				"restore the data dir from a backup, or move it away and start with --adopt to rebuild the state from the machine",
			dir, filepath.Join(bdir, badger.KeyRegistryFileName), len(data), data[0])
	}
	return nil
}

// openBadger opens Badger and turns a panic in this goroutine into an
// error.
func openBadger(opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("badger panicked while opening: %v", r)
		}
	}()
	return badger.Open(opts)
}
