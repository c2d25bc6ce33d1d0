package main

import (
	"context"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateUser adds the user in one locked rewrite, or returns the existing
// user when it is the same account (adding any supplementary group it
// lacks); a different account of that name is AlreadyExists. The home is
// made afterwards, only when asked and only if it does not exist, so an
// existing directory is never given to the new uid.
func (f *Files) CreateUser(ctx context.Context, spec accounts.UserSpec) (accounts.User, error) {
	if err := etcdb.ValidateSpec(spec); err != nil {
		return accounts.User{}, err
	}
	var u accounts.User
	var d etcdb.Defs
	err := f.mutate(ctx, func(db *etcdb.DB, defs etcdb.Defs) error {
		var err error
		d = defs
		u, err = createOrMatch(db, defs, spec)
		return err
	})
	if err != nil {
		return accounts.User{}, err
	}
	if spec.CreateHome {
		if err := makeHome(u.Home, u.UID, u.GID, d.HomeMode); err != nil {
			return u, err
		}
	}
	return u, nil
}

// createOrMatch creates spec's user, or checks the existing one matches.
func createOrMatch(db *etcdb.DB, d etcdb.Defs, spec accounts.UserSpec) (accounts.User, error) {
	if _, err := db.User(spec.Name); err == nil {
		if _, err := db.Existing(spec, d); err != nil {
			return accounts.User{}, err
		}
		missing := db.MissingGroups(spec)
		if err := db.CheckGroups("groups", missing...); err != nil {
			return accounts.User{}, err
		}
		for _, g := range missing {
			addMember(db, g, spec.Name)
		}
	} else if err := createUserIn(db, d, spec); err != nil {
		return accounts.User{}, err
	}
	return db.User(spec.Name)
}

// DeleteUser removes a user the guard lets through; a missing user is
// success, a user still running a process is FailedPrecondition (as
// userdel's exit 8). With RemoveHome the home goes too, if it is a real directory
// owned by the user and no other account's home.
func (f *Files) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	if err := checkRef(name, opts.MarkerGroup); err != nil {
		return err
	}
	var gone *accounts.User
	var shared bool
	err := f.mutate(ctx, func(db *etcdb.DB, _ etcdb.Defs) error {
		u, err := db.Guard(name, opts.MarkerGroup)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if err := checkNotBusy(name, u.UID); err != nil {
			return err
		}
		deleteUserIn(db, u)
		gone = &u
		all, _ := db.Users("")
		shared = slices.ContainsFunc(all, func(o accounts.User) bool { return o.Home == u.Home })
		return nil
	})
	if err != nil || gone == nil || !opts.RemoveHome || shared {
		return err
	}
	return removeHome(gone.Home, gone.UID)
}

func (f *Files) GetUser(_ context.Context, name string) (accounts.User, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.User{}, err
	}
	db, _, err := f.load()
	if err != nil {
		return accounts.User{}, err
	}
	return db.User(name)
}

func (f *Files) ListUsers(_ context.Context, group string) ([]accounts.User, error) {
	if err := check.OptionalName("group", group); err != nil {
		return nil, err
	}
	db, _, err := f.load()
	if err != nil {
		return nil, err
	}
	return db.Users(group)
}

// LockUser puts "!" before the password and expires the account.
func (f *Files) LockUser(ctx context.Context, name, markerGroup string) error {
	return f.change(ctx, name, markerGroup, func(db *etcdb.DB) { setLocked(db, name, true) })
}

// UnlockUser undoes LockUser.
func (f *Files) UnlockUser(ctx context.Context, name, markerGroup string) error {
	return f.change(ctx, name, markerGroup, func(db *etcdb.DB) { setLocked(db, name, false) })
}

// SetUserGroups makes groups plus the marker group the user's exact
// supplementary set.
func (f *Files) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (accounts.User, error) {
	if err := check.Names("groups", groups); err != nil {
		return accounts.User{}, err
	}
	want := supplementary(groups, markerGroup)
	var u accounts.User
	err := f.change(ctx, name, markerGroup, func(db *etcdb.DB) {
		setUserGroups(db, name, want)
		u, _ = db.User(name)
	}, want...)
	return u, err
}

// change applies edit to a guarded user, after checking that groups exist.
func (f *Files) change(ctx context.Context, name, markerGroup string, edit func(*etcdb.DB), groups ...string) error {
	if err := checkRef(name, markerGroup); err != nil {
		return err
	}
	return f.mutate(ctx, func(db *etcdb.DB, _ etcdb.Defs) error {
		if _, err := db.Guard(name, markerGroup); err != nil {
			return err
		}
		if err := db.CheckGroups("groups", groups...); err != nil {
			return err
		}
		edit(db)
		return nil
	})
}

func checkRef(name, markerGroup string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	return check.OptionalName("marker_group", markerGroup)
}
