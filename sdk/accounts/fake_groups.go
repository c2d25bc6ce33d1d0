package accounts

import (
	"context"
	"slices"
	"sort"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The Fake's groups: create, delete, get and their members.

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
	f.addGroup(g)
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
	f.dropGroup(g)
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
	for _, m := range g.Members {
		f.unlist(m, name)
	}
	g.Members = slices.Compact(slices.Sorted(slices.Values(members)))
	for _, m := range g.Members {
		f.list(m, name)
	}
	return cloneGroup(g), nil
}

func cloneGroup(g *Group) Group {
	out := *g
	out.Members = slices.Clone(g.Members)
	sort.Strings(out.Members)
	return out
}
