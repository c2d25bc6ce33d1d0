package accounts

import (
	"context"
	"slices"
	"sort"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

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
	want := append(slices.Clone(groups), markerGroup)
	for _, g := range groups {
		if f.groups[g] == nil {
			return User{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", g)
		}
	}
	for _, g := range f.groups {
		in := slices.Contains(want, g.Name)
		has := slices.Contains(g.Members, name)
		switch {
		case in && !has:
			g.Members = append(g.Members, name)
		case !in && has:
			g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == name })
		}
	}
	return f.userView(u), nil
}

func (f *Fake) CreateGroup(_ context.Context, name string, gid uint32) (Group, error) {
	unlock, err := f.lock("CreateGroup")
	if err != nil {
		return Group{}, err
	}
	defer unlock()
	if err := check.Name("name", name); err != nil {
		return Group{}, err
	}
	if g, ok := f.groups[name]; ok {
		if gid != 0 && gid != g.GID {
			return Group{}, sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists with gid %d", name, g.GID)
		}
		return cloneGroup(g), nil
	}
	if gid != 0 && f.gidTaken(gid) {
		return Group{}, sdkerr.Errorf(sdkerr.AlreadyExists, "gid %d is taken", gid)
	}
	if gid == 0 {
		gid = f.allocID()
	}
	g := &Group{Name: name, GID: gid}
	f.groups[name] = g
	return cloneGroup(g), nil
}

func (f *Fake) DeleteGroup(_ context.Context, name string) error {
	unlock, err := f.lock("DeleteGroup")
	if err != nil {
		return err
	}
	defer unlock()
	if err := check.Name("name", name); err != nil {
		return err
	}
	g, ok := f.groups[name]
	if !ok {
		return nil
	}
	for _, u := range f.users {
		if u.GID == g.GID {
			return sdkerr.Errorf(sdkerr.FailedPrecondition, "group %q is the primary group of %q", name, u.Name)
		}
	}
	delete(f.groups, name)
	return nil
}

func (f *Fake) GetGroup(_ context.Context, name string) (Group, error) {
	unlock, err := f.lock("GetGroup")
	if err != nil {
		return Group{}, err
	}
	defer unlock()
	if err := check.Name("name", name); err != nil {
		return Group{}, err
	}
	g, ok := f.groups[name]
	if !ok {
		return Group{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", name)
	}
	return cloneGroup(g), nil
}

func (f *Fake) SetGroupMembers(_ context.Context, name string, members []string) (Group, error) {
	unlock, err := f.lock("SetGroupMembers")
	if err != nil {
		return Group{}, err
	}
	defer unlock()
	if err := check.Name("name", name); err != nil {
		return Group{}, err
	}
	if err := check.Names("members", members); err != nil {
		return Group{}, err
	}
	g, ok := f.groups[name]
	if !ok {
		return Group{}, sdkerr.Errorf(sdkerr.NotFound, "group %q not found", name)
	}
	for _, m := range members {
		if f.users[m] == nil {
			return Group{}, sdkerr.Errorf(sdkerr.NotFound, "user %q not found", m)
		}
	}
	g.Members = slices.Compact(slices.Sorted(slices.Values(members)))
	return cloneGroup(g), nil
}

func cloneGroup(g *Group) Group {
	out := *g
	out.Members = slices.Clone(g.Members)
	sort.Strings(out.Members)
	return out
}
