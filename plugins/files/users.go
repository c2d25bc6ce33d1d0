package files

import (
	"context"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateUser adds the user in one locked rewrite, or returns the existing
// user when it is the same managed account (adding any supplementary group
// it lacks); a different account of that name is AlreadyExists, the same
// one unmanaged PermissionDenied. The spec is the policy's (Judge.Spec).
// The home is made afterwards, only when asked and only if it does not
// exist, so an existing directory is never given to the new uid.
func (f *Files) CreateUser(ctx context.Context, spec accounts.UserSpec) (accounts.User, error) {
	if err := etcdb.ValidateSpec(spec); err != nil {
		return accounts.User{}, err
	}
	var u accounts.User
	var d etcdb.Defs
	var fresh bool
	err := f.createTracked(ctx, []string{spec.Name}, func(j *etcdb.Judge, defs etcdb.Defs) error {
		var err error
		d = defs
		if spec, err = j.Spec(spec, defs); err != nil {
			return err
		}
		fresh = !j.DB.HasUser(spec.Name)
		u, err = createOrMatch(j, defs, spec)
		return err
	})
	if err != nil {
		return accounts.User{}, err
	}
	if fresh {
		resetLogs(f.Etc, u.UID, etcdb.LoginDefs(f.Etc))
	}
	if spec.CreateHome {
		if err := makeHome(u.Home, u.UID, u.GID, d.HomeMode); err != nil {
			return u, err
		}
	}
	return u, nil
}

// createOrMatch creates the user of spec (which passed Judge.Spec), or
// checks the existing one matches and is managed.
func createOrMatch(j *etcdb.Judge, d etcdb.Defs, spec accounts.UserSpec) (accounts.User, error) {
	db := j.DB
	if db.HasUser(spec.Name) {
		if _, err := j.Existing(spec, d); err != nil {
			return accounts.User{}, err
		}
		for _, g := range db.MissingGroups(spec) {
			addMember(db, g, spec.Name)
		}
	} else if err := j.Fresh(spec); err != nil {
		return accounts.User{}, err
	} else if err := createUserIn(db, d, spec); err != nil {
		return accounts.User{}, err
	}
	return db.User(spec.Name)
}

// DeleteUser removes a managed user, or one a crashed create left on the
// pending record (Judge.DeletableUser); a missing user is success, a user
// still running a process is FailedPrecondition (as userdel's exit 8).
// With RemoveHome the home goes too, if it lies beneath the policy's home
// roots, is a real directory owned by the user and is no other account's
// home.
func (f *Files) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	if err := checkRef(name, opts.MarkerGroup); err != nil {
		return err
	}
	var gone *accounts.User
	var shared bool
	var pend map[string]etcdb.Pending
	err := f.mutateThen(ctx, func(j *etcdb.Judge, _ etcdb.Defs) error {
		if err := j.Marker(opts.MarkerGroup); err != nil {
			return err
		}
		var err error
		if pend, err = etcdb.ReadPending(f.Etc); err != nil {
			return err
		}
		u, err := j.DeletableUser(name, pend)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return f.dropPending(pend, name)
		} else if err != nil {
			return err
		}
		if opts.RemoveHome {
			if err := j.Home(u.Home); err != nil {
				return err
			}
		}
		if err := checkNotBusy(name, u.UID); err != nil {
			return err
		}
		deleteUserIn(j.DB, u)
		gone = &u
		all, _ := j.DB.Users("")
		shared = slices.ContainsFunc(all, func(o accounts.User) bool { return o.Home == u.Home })
		return nil
	}, func(*etcdb.Judge) error { return f.dropPending(pend, name) })
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
	return f.change(ctx, name, markerGroup, func(j *etcdb.Judge, _ accounts.User) error {
		setLocked(j.DB, name, true)
		return nil
	})
}

// UnlockUser undoes LockUser.
func (f *Files) UnlockUser(ctx context.Context, name, markerGroup string) error {
	return f.change(ctx, name, markerGroup, func(j *etcdb.Judge, _ accounts.User) error {
		setLocked(j.DB, name, false)
		return nil
	})
}

// SetUserGroups makes groups (each joinable) plus the marker group the
// user's supplementary set; a group it may not join that the user is in
// already stays, as an admin put it there.
func (f *Files) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (accounts.User, error) {
	if err := check.Names("groups", groups); err != nil {
		return accounts.User{}, err
	}
	var out accounts.User
	err := f.change(ctx, name, markerGroup, func(j *etcdb.Judge, u accounts.User) error {
		want, err := j.UserGroups(u, groups)
		if err != nil {
			return err
		}
		setUserGroups(j.DB, name, want)
		out, err = j.DB.User(name)
		return err
	})
	return out, err
}

// change applies edit to a managed user.
func (f *Files) change(ctx context.Context, name, markerGroup string, edit func(*etcdb.Judge, accounts.User) error) error {
	if err := checkRef(name, markerGroup); err != nil {
		return err
	}
	return f.mutate(ctx, func(j *etcdb.Judge, _ etcdb.Defs) error {
		if err := j.Marker(markerGroup); err != nil {
			return err
		}
		u, err := j.ManagedUser(name)
		if err != nil {
			return err
		}
		return edit(j, u)
	})
}

func checkRef(name, markerGroup string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	return check.OptionalName("marker_group", markerGroup)
}
