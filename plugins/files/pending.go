package files

import (
	"context"
	"maps"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
)

// A create's commit replaces passwd and shadow before group and gshadow
// (shadow-utils' order), so a crash in between leaves the new accounts
// outside their marker group, where no call may touch them. So every
// create puts the users it adds on the pending record (etcdb.PendingFile)
// before its commit, and takes them off once the commit is written (which
// put them in the marker group); a crash leaves them on it, and the
// host's rollback can delete them (DeleteUser's Judge.DeletableUser).

// createTracked runs a create's edit with the users it adds on the pending
// record from before its commit until the commit is written (mutateThen).
func (f *Files) createTracked(ctx context.Context, names []string, edit func(j *etcdb.Judge, d etcdb.Defs) error) error {
	var added []string
	return f.mutateThen(ctx, func(j *etcdb.Judge, d etcdb.Defs) error {
		added = newUsers(j.DB, names)
		if err := edit(j, d); err != nil {
			return err
		}
		return f.track(j.DB, added)
	}, func(*etcdb.Judge) error { return f.untrack(added) })
}

// newUsers lists the names that db does not hold yet.
func newUsers(db *etcdb.DB, names []string) []string {
	var out []string
	for _, n := range names {
		if !db.HasUser(n) {
			out = append(out, n)
		}
	}
	return out
}

// track puts the users named that the edit added to db on the pending
// record with their uids, durably, before the commit; the caller holds
// the locks.
func (f *Files) track(db *etcdb.DB, names []string) error {
	pend := map[string]etcdb.Pending{}
	for _, n := range names {
		if u, err := db.User(n); err == nil {
			pend[n] = etcdb.Pending{Name: n, UID: u.UID}
		}
	}
	if len(pend) == 0 {
		return nil
	}
	old, err := etcdb.ReadPending(f.Etc)
	if err != nil {
		return err
	}
	maps.Copy(old, pend)
	return etcdb.WritePending(f.Etc, old)
}

// untrack takes names off the record once the commit put them in their
// marker group; the caller holds the locks.
func (f *Files) untrack(names []string) error {
	if len(names) == 0 {
		return nil
	}
	pend, err := etcdb.ReadPending(f.Etc)
	if err != nil {
		return err
	}
	for _, n := range names {
		delete(pend, n)
	}
	return etcdb.WritePending(f.Etc, pend)
}

// dropPending takes name off the record after its delete; the caller
// holds the locks.
func (f *Files) dropPending(pend map[string]etcdb.Pending, name string) error {
	if _, ok := pend[name]; !ok {
		return nil
	}
	delete(pend, name)
	return etcdb.WritePending(f.Etc, pend)
}
