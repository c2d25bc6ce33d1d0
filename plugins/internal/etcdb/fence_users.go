package etcdb

import (
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// ManagedUser returns the user a change (delete, lock, unlock, groups) may
// touch: an account of the policy's marker group with a uid in its range.
// Root, system accounts and people's own accounts are PermissionDenied,
// whatever marker group the caller names; a missing user is NotFound.
func (j *Judge) ManagedUser(name string) (accounts.User, error) {
	u, err := j.DB.User(name)
	if err != nil {
		return u, err
	}
	if u.UID == 0 {
		return u, denied("user %q has uid 0; refusing to change it", name)
	}
	if !j.M.UserManaged(name) {
		return u, denied("user %q is not an account hero_codescalers manages (a member of %q with a %s); refusing to change it",
			name, j.P.MarkerGroup, j.rangeText())
	}
	return u, nil
}

// Joinable checks groups a managed user is to be put in: each exists
// (NotFound otherwise) and is the marker group, a group the policy names,
// or a group hero_codescalers made (PermissionDenied otherwise: docker,
// video, the admin group, another user's private group).
func (j *Judge) Joinable(field string, groups []string) error {
	for _, g := range groups {
		if g == j.P.MarkerGroup {
			continue // made with the first user when missing
		}
		if !j.M.GroupExists(g) {
			return sdkerr.Errorf(sdkerr.NotFound, "%s: group %q not found", field, g)
		}
		if !j.M.GroupJoinable(g) {
			return denied("%s: group %q is neither a group hero_codescalers made nor one the policy allows (groups = %q); refusing to put a user in it",
				field, g, j.P.Groups)
		}
	}
	return nil
}

// Home checks a user's home lies strictly beneath one of the policy's
// home roots: never a root itself (userdel -r would remove it), never
// elsewhere.
func (j *Judge) Home(home string) error {
	root, ok := policy.Beneath(j.P.HomeRoots, home)
	if !ok || root == home {
		return denied("home %q is not beneath the policy's home roots %q", home, j.P.HomeRoots)
	}
	return nil
}

// Spec makes a create's spec the policy's, or refuses it: the marker group
// is the policy's (another one is refused, "" means the policy's), the
// primary group is the user's own new group (naming any other is
// refused), a uid given lies in the policy's range, the home beneath a
// home root, and every supplementary group is joinable. The same holds
// whether the user is new or exists (a repeated create).
func (j *Judge) Spec(spec accounts.UserSpec, d Defs) (accounts.UserSpec, error) {
	if err := j.Marker(spec.MarkerGroup); err != nil {
		return spec, err
	}
	spec.MarkerGroup = j.P.MarkerGroup
	if spec.PrimaryGroup != "" && spec.PrimaryGroup != spec.Name {
		return spec, denied("user %q: primary group %q refused: a managed user's primary group is its own new group", spec.Name, spec.PrimaryGroup)
	}
	spec.PrimaryGroup = ""
	if spec.UID != 0 && !j.P.UIDAllowed(spec.UID) {
		return spec, denied("user %q: uid %d is outside the policy's %s", spec.Name, spec.UID, j.rangeText())
	}
	if err := j.Home(d.Home(spec)); err != nil {
		return spec, err
	}
	return spec, j.Joinable("groups", spec.Groups)
}

// Existing answers a create (of a spec Spec passed) whose name exists: the
// user when it is the same account and managed; AlreadyExists when it
// differs; PermissionDenied when it is the same but not managed, since a
// repeated create may add groups to it.
func (j *Judge) Existing(spec accounts.UserSpec, d Defs) (accounts.User, error) {
	u, err := j.DB.Existing(spec, d)
	if err != nil {
		return u, err
	}
	if _, err := j.ManagedUser(spec.Name); err != nil {
		return accounts.User{}, err
	}
	return u, nil
}

// Fresh checks a new user's own group can be made: no group has its name
// yet (the user's private group is always new, never an existing one).
func (j *Judge) Fresh(spec accounts.UserSpec) error {
	if j.M.GroupExists(spec.Name) {
		return sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists; a new user's own group must be new", spec.Name)
	}
	return nil
}

// UserGroups is the supplementary set SetUserGroups makes for u: the
// groups asked (each joinable), the marker group, and every group u is in
// now that no call may change (one it could not join): those are an
// admin's decision, neither added nor removed.
func (j *Judge) UserGroups(u accounts.User, groups []string) ([]string, error) {
	if err := j.Joinable("groups", groups); err != nil {
		return nil, err
	}
	out := append(slices.Clone(groups), j.P.MarkerGroup)
	for _, g := range u.Groups {
		if !j.M.GroupJoinable(g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
