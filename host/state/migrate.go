package state

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/core"
)

// SchemaVersion is the newest schema this binary knows: the Version of the
// last entry of migrations. A database at a higher version was written by a
// newer binary and is refused rather than misread.
const SchemaVersion = 1

// schemaKey holds the database's schema version as a decimal integer.
const schemaKey = "meta/schema"

// migration moves the state from Version-1 to Version. Up runs in its own
// transaction together with the version bump, so a crash leaves the state
// at either the old or the new version, never between.
type migration struct {
	Version int
	Name    string
	Up      func(core.Tx) error
}

// migrations are applied in order at Open. Append only: a released
// migration is never edited, since databases in the field already ran it.
var migrations = []migration{
	{Version: 1, Name: "initial schema", Up: func(core.Tx) error { return nil }},
}

// migrate brings store up to the last of ms, one transaction per step.
func migrate(store core.Store, ms []migration, dir string, log *slog.Logger) error {
	if err := checkMigrations(ms); err != nil {
		return core.Wrap(err, core.Internal, "invalid migrations: %v", err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	var current int
	if err := store.View(func(tx core.Tx) (err error) {
		current, err = readSchema(tx)
		return err
	}); err != nil {
		return err
	}
	if current > latest {
		return core.Errorf(core.FailedPrecondition,
			"the state in %s: schema %d is newer than this binary supports (%d): upgrade hero_codescalers",
			dir, current, latest)
	}
	for _, m := range ms[current:] {
		err := store.Update(func(tx core.Tx) error {
			v, err := readSchema(tx)
			if err != nil {
				return err
			}
			if v >= m.Version { // applied since we looked; nothing to do
				return nil
			}
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Set(schemaKey, []byte(strconv.Itoa(m.Version)))
		})
		if err != nil {
			return core.Wrap(err, core.Internal, "schema migration %d (%s) failed: %v", m.Version, m.Name, err)
		}
		log.Info("state schema migrated", "version", m.Version, "name", m.Name)
	}
	return nil
}

// readSchema returns the stored schema version; 0 for a new database.
func readSchema(tx core.Tx) (int, error) {
	b, err := tx.Get(schemaKey)
	if errors.Is(err, core.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(string(b))
	if err != nil || v < 0 {
		return 0, core.Errorf(core.FailedPrecondition, "%s holds %q, not a schema version", schemaKey, b)
	}
	return v, nil
}

// checkMigrations insists on versions 1, 2, 3… so that ms[current:] is
// exactly what is left to run.
func checkMigrations(ms []migration) error {
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("migration %d (%s) is at position %d", m.Version, m.Name, i+1)
		}
		if m.Up == nil {
			return fmt.Errorf("migration %d (%s) has no Up", m.Version, m.Name)
		}
	}
	return nil
}
