package files

import (
	"context"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateGroup adds a group ("name:x:gid:", gshadow "name:!::") and puts
// it on the managed-groups record once it is written; gid 0 allocates
// from the policy's gid range, any other gid must lie in it and be no
// group's. An existing group is returned when hero_codescalers made it (or
// it is the marker group) and the gid agrees or none was asked; any other
// existing group is refused. The group is on the pending-groups record
// from before its commit until it is on the managed-groups record, so a
// crash in between leaves a group the host's rollback can delete.
func (f *Files) CreateGroup(ctx context.Context, name string, gid uint32) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	var g accounts.Group
	made := false
	err := f.mutateThen(ctx, func(j *etcdb.Judge, d etcdb.Defs) error {
		var err error
		var found bool
		if g, found, err = j.ExistingGroup(name, gid); found || err != nil {
			return err
		}
		if err := j.NewGroup(name, gid); err != nil {
			return err
		}
		if err := createGroupIn(j.DB, d, name, gid); err != nil {
			return err
		}
		if g, err = j.DB.Group(name); err != nil {
			return err
		}
		if j.Recorded(name) {
			if err := etcdb.PendGroup(f.Etc, name, g.GID); err != nil {
				return err
			}
		}
		made = true
		return nil
	}, func(j *etcdb.Judge) error {
		if !made || !j.Recorded(name) {
			return nil
		}
		return j.Record(name, true)
	})
	if err != nil && made {
		// Written (or begun) but not recorded: take it back, under the
		// locks again; it leaves the pending record only once that is
		// written.
		_ = f.mutateThen(context.WithoutCancel(ctx), func(j *etcdb.Judge, _ etcdb.Defs) error {
			if cur, gerr := j.DB.Group(name); gerr == nil && cur.GID == g.GID && !j.M.GroupManaged(name) {
				deleteGroupIn(j.DB, name)
			}
			return nil
		}, func(*etcdb.Judge) error { return etcdb.UnpendGroup(f.Etc, name) })
	}
	return g, err
}

// DeleteGroup removes a group hero_codescalers made, or one a crashed
// create or delete left on the pending-groups record
// (etcdb.Judge.DeletableGroup), with what of it a crash left in gshadow;
// a managed group goes on that record before it comes off the
// managed-groups record. A missing group is success, any other group is
// refused, and a user's primary group is FailedPrecondition.
func (f *Files) DeleteGroup(ctx context.Context, name string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	dropped := false
	err := f.mutateThen(ctx, func(j *etcdb.Judge, _ etcdb.Defs) error {
		pend, err := etcdb.ReadPendingGroups(f.Etc)
		if err != nil {
			return err
		}
		g, err := j.DeletableGroup(name, pend)
		if sdkerr.Is(err, sdkerr.NotFound) {
			if _, ok := pend[name]; ok {
				// a crash between the group and gshadow commits
				deleteGroupIn(j.DB, name)
			}
			return nil
		} else if err != nil {
			return err
		}
		users, _ := j.DB.Users("")
		for _, u := range users {
			if u.GID == g.GID {
				return sdkerr.Errorf(sdkerr.FailedPrecondition, "group %q is the primary group of user %q", name, u.Name)
			}
		}
		if j.M.GroupManaged(name) {
			if err := j.Record(name, false); err != nil {
				return err
			}
			dropped = true
		}
		deleteGroupIn(j.DB, name)
		return nil
	}, func(*etcdb.Judge) error { return etcdb.UnpendGroup(f.Etc, name) })
	if err != nil && dropped {
		// Not written: the group is still there, and still ours.
		_ = f.mutate(context.WithoutCancel(ctx), func(j *etcdb.Judge, _ etcdb.Defs) error {
			if j.DB.HasGroup(name) {
				return j.Record(name, true)
			}
			return etcdb.UnpendGroup(f.Etc, name)
		})
	}
	return err
}

func (f *Files) GetGroup(_ context.Context, name string) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	db, _, err := f.load()
	if err != nil {
		return accounts.Group{}, err
	}
	return db.Group(name)
}

// SetGroupMembers makes members the exact member list, in group and
// gshadow alike, as gpasswd -M does, of a group hero_codescalers made;
// every member added must be a managed user.
func (f *Files) SetGroupMembers(ctx context.Context, name string, members []string) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	if err := check.Names("members", members); err != nil {
		return accounts.Group{}, err
	}
	want := slices.Compact(slices.Sorted(slices.Values(members)))
	var g accounts.Group
	err := f.mutate(ctx, func(j *etcdb.Judge, _ etcdb.Defs) error {
		cur, err := j.ManagedGroup(name)
		if err != nil {
			return err
		}
		if err := j.Members(cur, want); err != nil {
			return err
		}
		editMembers(j.DB, name, func([]string) []string { return want })
		g, err = j.DB.Group(name)
		return err
	})
	return g, err
}
