package accounts

import (
	"context"
	"slices"
	"sort"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The Fake's users: create (one or a batch), delete, get, list, lock and
// their groups.

func (f *Fake) CreateUser(_ context.Context, spec UserSpec) (User, error) {
	unlock, err := f.lock("CreateUser")
	if err != nil {
		return User{}, err
	}
	defer unlock()
	return f.createUser(spec)
}

func (f *Fake) createUser(spec UserSpec) (User, error) {
	if err := ValidateUserSpec(spec); err != nil {
		return User{}, err
	}
	if u, ok := f.users[spec.Name]; ok {
		if (spec.UID != 0 && spec.UID != u.UID) || (spec.Home != "" && spec.Home != u.Home) {
			return User{}, sdkerr.Errorf(sdkerr.AlreadyExists, "user %q exists with other attributes", spec.Name)
		}
		return f.userView(u), nil
	}
	if spec.UID != 0 && f.uidTaken(spec.UID) {
		return User{}, sdkerr.Errorf(sdkerr.AlreadyExists, "uid %d is taken", spec.UID)
	}
	// The supplementary groups are spec.Groups and the marker group.
	for _, g := range spec.Groups {
		if _, ok := f.groups[g]; !ok {
			return User{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", g)
		}
	}
	if _, ok := f.groups[spec.MarkerGroup]; spec.MarkerGroup != "" && !ok {
		return User{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", spec.MarkerGroup)
	}
	uid := spec.UID
	if uid == 0 {
		uid = f.allocID()
	}
	primary, err := f.primaryGroup(spec, uid)
	if err != nil {
		return User{}, err
	}
	home := spec.Home
	if home == "" {
		home = "/home/" + spec.Name
	}
	u := &User{Name: spec.Name, UID: uid, GID: primary.GID, Home: home, Shell: spec.Shell, GECOS: spec.GECOS}
	f.addUser(u)
	for _, g := range spec.Groups {
		f.join(f.groups[g], spec.Name)
	}
	if spec.MarkerGroup != "" {
		f.join(f.groups[spec.MarkerGroup], spec.Name)
	}
	return f.userView(u), nil
}

func (f *Fake) uidTaken(uid uint32) bool { return f.byUID[uid] != nil }

// primaryGroup finds the named primary group or makes the user's own one,
// with gid = uid when that is free.
func (f *Fake) primaryGroup(spec UserSpec, uid uint32) (*Group, error) {
	if spec.PrimaryGroup != "" {
		g, ok := f.groups[spec.PrimaryGroup]
		if !ok {
			return nil, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", spec.PrimaryGroup)
		}
		return g, nil
	}
	if g, ok := f.groups[spec.Name]; ok {
		return g, nil
	}
	gid := uid
	if f.gidTaken(gid) {
		gid = f.allocID()
	}
	g := &Group{Name: spec.Name, GID: gid}
	f.addGroup(g)
	return g, nil
}

func (f *Fake) gidTaken(gid uint32) bool { return f.byGID[gid] != nil }

func (f *Fake) CreateUsers(_ context.Context, specs []UserSpec) ([]BatchResult, error) {
	unlock, err := f.lock("CreateUsers")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]BatchResult, len(specs))
	for i, s := range specs {
		out[i].User, out[i].Err = f.createUser(s)
	}
	return out, nil
}

func (f *Fake) DeleteUser(_ context.Context, name string, opts DeleteOptions) error {
	unlock, err := f.lock("DeleteUser")
	if err != nil {
		return err
	}
	defer unlock()
	if err := ValidateUserRef(name, opts.MarkerGroup); err != nil {
		return err
	}
	u, err := f.guard(name, opts.MarkerGroup)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	f.dropUser(u)
	if g, ok := f.groups[name]; ok && g.GID == u.GID {
		f.dropGroup(g)
	}
	return nil
}

func (f *Fake) GetUser(_ context.Context, name string) (User, error) {
	unlock, err := f.lock("GetUser")
	if err != nil {
		return User{}, err
	}
	defer unlock()
	if err := check.Name("name", name); err != nil {
		return User{}, err
	}
	u, ok := f.users[name]
	if !ok {
		return User{}, sdkerr.Errorf(sdkerr.NotFound, "user %q not found", name)
	}
	return f.userView(u), nil
}

func (f *Fake) ListUsers(_ context.Context, group string) ([]User, error) {
	unlock, err := f.lock("ListUsers")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := check.OptionalName("group", group); err != nil {
		return nil, err
	}
	var out []User
	for _, u := range f.users {
		v := f.userView(u)
		if group == "" || slices.Contains(v.Groups, group) || (f.groups[group] != nil && f.groups[group].GID == u.GID) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *Fake) LockUser(_ context.Context, name, markerGroup string) error {
	return f.setLocked("LockUser", name, markerGroup, true)
}

func (f *Fake) UnlockUser(_ context.Context, name, markerGroup string) error {
	return f.setLocked("UnlockUser", name, markerGroup, false)
}

func (f *Fake) setLocked(method, name, markerGroup string, locked bool) error {
	unlock, err := f.lock(method)
	if err != nil {
		return err
	}
	defer unlock()
	if err := ValidateUserRef(name, markerGroup); err != nil {
		return err
	}
	u, err := f.guard(name, markerGroup)
	if err != nil {
		return err
	}
	u.Locked = locked
	return nil
}

func (f *Fake) SetUserGroups(_ context.Context, name string, groups []string, markerGroup string) (User, error) {
	unlock, err := f.lock("SetUserGroups")
	if err != nil {
		return User{}, err
	}
	defer unlock()
	if err := ValidateUserRef(name, markerGroup); err != nil {
		return User{}, err
	}
	if err := check.Names("groups", groups); err != nil {
		return User{}, err
	}
	u, err := f.guard(name, markerGroup)
	if err != nil {
		return User{}, err
	}
	for _, g := range groups {
		if f.groups[g] == nil {
			return User{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", g)
		}
	}
	// The user leaves the groups listing it that are not wanted, and joins
	// the wanted ones; guard found it in the marker group already.
	for _, g := range slices.Clone(f.memberOf[name]) {
		if g != markerGroup && !slices.Contains(groups, g) {
			f.leave(f.groups[g], name)
		}
	}
	for _, g := range groups {
		f.join(f.groups[g], name)
	}
	return f.userView(u), nil
}
