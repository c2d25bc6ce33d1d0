package main

import (
	"context"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateGroup adds a group ("name:x:gid:", gshadow "name:!::"), allocating
// the gid from GID_MIN..GID_MAX when gid is 0. An existing group is
// returned when the gid agrees or none was asked.
func (f *Files) CreateGroup(ctx context.Context, name string, gid uint32) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	var g accounts.Group
	err := f.mutate(ctx, func(db *etcdb.DB, d etcdb.Defs) error {
		var err error
		if g, err = db.Group(name); err == nil {
			if gid != 0 && g.GID != gid {
				return sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists with gid %d (want %d)", name, g.GID, gid)
			}
			return nil
		}
		if err := createGroupIn(db, d, name, gid); err != nil {
			return err
		}
		g, err = db.Group(name)
		return err
	})
	return g, err
}

// DeleteGroup removes a group; a missing group is success, a system group
// is refused, and a user's primary group is FailedPrecondition.
func (f *Files) DeleteGroup(ctx context.Context, name string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	return f.mutate(ctx, func(db *etcdb.DB, d etcdb.Defs) error {
		g, err := db.GuardGroup(name, d)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		users, _ := db.Users("")
		for _, u := range users {
			if u.GID == g.GID {
				return sdkerr.Errorf(sdkerr.FailedPrecondition, "group %q is the primary group of user %q", name, u.Name)
			}
		}
		db.Tables[etcdb.Group].Delete(name)
		db.Tables[etcdb.GShadow].Delete(name)
		return nil
	})
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

// SetGroupMembers makes members the group's exact member list, in group
// and gshadow alike, as gpasswd -M does.
func (f *Files) SetGroupMembers(ctx context.Context, name string, members []string) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	if err := check.Names("members", members); err != nil {
		return accounts.Group{}, err
	}
	want := slices.Compact(slices.Sorted(slices.Values(members)))
	var g accounts.Group
	err := f.mutate(ctx, func(db *etcdb.DB, d etcdb.Defs) error {
		if _, err := db.GuardGroup(name, d); err != nil {
			return err
		}
		for _, m := range want {
			if _, err := db.User(m); err != nil {
				return err
			}
		}
		editMembers(db, name, func([]string) []string { return want })
		var err error
		g, err = db.Group(name)
		return err
	})
	return g, err
}
