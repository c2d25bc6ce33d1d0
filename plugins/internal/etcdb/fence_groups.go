package etcdb

import (
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// ExistingGroup answers a create of a group whose name exists: the group
// when it is the policy's marker group or one hero_codescalers made, and
// has the gid asked (or none was); AlreadyExists when the gid differs;
// PermissionDenied for any other group (docker, sudo, a user's own group),
// which a create must never adopt as managed. found is false when no
// group has the name.
func (j *Judge) ExistingGroup(name string, gid uint32) (g accounts.Group, found bool, err error) {
	g, err = j.DB.Group(name)
	if err != nil {
		return g, false, nil
	}
	if name != j.P.MarkerGroup && !j.M.GroupManaged(name) {
		return accounts.Group{}, true, denied("group %q exists and is not a group hero_codescalers made; refusing to adopt it", name)
	}
	if gid != 0 && g.GID != gid {
		return accounts.Group{}, true, sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists with gid %d (want %d)", name, g.GID, gid)
	}
	return g, true, nil
}

// NewGroup checks the gid of a group to create: 0 (allocate from the
// policy's range) or one in the policy's gid range that no group has: a
// gid shared with another group would give its members that group's files.
func (j *Judge) NewGroup(name string, gid uint32) error {
	if gid == 0 {
		return nil
	}
	if !j.P.GIDAllowed(gid) {
		return denied("group %q: gid %d is outside the policy's gid %d..%d", name, gid, j.P.GIDMin, j.P.GIDMax)
	}
	if other, ok := j.DB.GroupNameByGID(gid); ok {
		return denied("group %q: gid %d is group %q's; a managed group's gid must be its own", name, gid, other)
	}
	return nil
}

// Recorded reports whether a group a plugin creates goes on the
// managed-groups record: every group but the marker group, which is the
// fence itself and never joins, leaves or is deleted through a call.
func (j *Judge) Recorded(name string) bool { return name != j.P.MarkerGroup }

// ManagedGroup returns a group a change (delete, members) may touch: one
// hero_codescalers made, on the record with a gid in the policy's range.
// Any other (a system group, docker, a user's own group, the marker group)
// is PermissionDenied; a missing group is NotFound.
func (j *Judge) ManagedGroup(name string) (accounts.Group, error) {
	g, err := j.DB.Group(name)
	if err != nil {
		return g, err
	}
	if !j.M.GroupManaged(name) {
		return g, denied("group %q is not a group hero_codescalers made (group-create); refusing to change it", name)
	}
	return g, nil
}

// Members checks a managed group's new member list: every member added
// exists (NotFound) and is a managed user (PermissionDenied); a member it
// has already may stay, or go.
func (j *Judge) Members(g accounts.Group, want []string) error {
	for _, m := range want {
		if slices.Contains(g.Members, m) {
			continue
		}
		if !j.DB.HasUser(m) {
			return notFoundUser(m)
		}
		if !j.M.UserManaged(m) {
			return denied("group %q: user %q is not an account hero_codescalers manages; refusing to add it", g.Name, m)
		}
	}
	return nil
}

// Record adds (add true) or drops the group on the managed-groups record
// beside the account files. A plugin records a group right after it made
// it and drops it right before it deletes it: a crash in between leaves a
// group off the record, which no call may then touch (the safe side),
// never a record naming a group someone else may make later. Record keeps
// the pending-groups record with it: a group it records leaves that
// record, and a group it drops goes on it first, with its gid, so a crash
// before its removal leaves it deletable (DeletableGroup); the plugin
// takes it off (UnpendGroup) once the group is gone, and puts a group it
// is about to make on it (PendGroup).
func (j *Judge) Record(name string, add bool) error {
	if !add {
		if g, err := j.DB.Group(name); err == nil {
			if err := PendGroup(j.DB.Dir, name, g.GID); err != nil {
				return err
			}
		}
	}
	if err := j.M.RecordManagedGroup(j.DB.Dir, name, add); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "update the managed-groups record in %s: %v", j.DB.Dir, err)
	}
	if add {
		_ = UnpendGroup(j.DB.Dir, name) // a record that cannot be rewritten only keeps it longer
	}
	return nil
}
