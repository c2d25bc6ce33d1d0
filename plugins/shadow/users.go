package main

import (
	"context"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateUser runs useradd, or returns the existing user when it is the
// same account. Two concurrent creates of one name (from this plugin or
// any other process) give one useradd; the loser sees exit 9 and answers
// like a repeated create: the same user when the specs agree,
// AlreadyExists when they differ. useradd -m never touches an existing
// home, so no home is ever chowned to the loser's uid.
func (s *Shadow) CreateUser(ctx context.Context, spec accounts.UserSpec) (accounts.User, error) {
	if err := etcdb.ValidateSpec(spec); err != nil {
		return accounts.User{}, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return accounts.User{}, err
	}
	defer unlock()
	return s.createUser(ctx, spec)
}

func (s *Shadow) createUser(ctx context.Context, spec accounts.UserSpec) (accounts.User, error) {
	db, d, err := s.load()
	if err != nil {
		return accounts.User{}, err
	}
	if _, err := db.User(spec.Name); err == nil {
		return s.existing(ctx, db, d, spec)
	}
	if err := s.ensureGroup(ctx, db, spec.MarkerGroup); err != nil {
		return accounts.User{}, err
	}
	if _, err := s.run(ctx, useraddArgv(spec, d), nil); err != nil {
		if sdkerr.Is(err, sdkerr.AlreadyExists) {
			if db, d, lerr := s.load(); lerr == nil {
				if _, uerr := db.User(spec.Name); uerr == nil {
					return s.existing(ctx, db, d, spec)
				}
			}
		}
		return accounts.User{}, err
	}
	return s.reload(spec.Name)
}

// existing answers a create of a name that exists: AlreadyExists when the
// account differs (or is not in the marker group, so not ours), else the
// user, after adding it to any supplementary group it lacks.
func (s *Shadow) existing(ctx context.Context, db *etcdb.DB, d etcdb.Defs, spec accounts.UserSpec) (accounts.User, error) {
	u, err := db.Existing(spec, d)
	if err != nil {
		return u, err
	}
	missing := db.MissingGroups(spec)
	if len(missing) == 0 {
		return u, nil
	}
	if err := db.CheckGroups("groups", missing...); err != nil {
		return accounts.User{}, err
	}
	if _, err := s.run(ctx, []string{"usermod", "-a", "-G", strings.Join(missing, ","), "--", spec.Name}, nil); err != nil {
		return accounts.User{}, err
	}
	return s.reload(spec.Name)
}

// ensureGroup creates group (the marker group) unless it exists.
func (s *Shadow) ensureGroup(ctx context.Context, db *etcdb.DB, group string) error {
	if group == "" {
		return nil
	}
	if _, ok := db.GID(group); ok {
		return nil
	}
	_, err := s.run(ctx, []string{"groupadd", "--", group}, nil)
	if sdkerr.Is(err, sdkerr.AlreadyExists) {
		return nil // made meanwhile by another process
	}
	return err
}

func (s *Shadow) reload(name string) (accounts.User, error) {
	db, _, err := s.load()
	if err != nil {
		return accounts.User{}, err
	}
	return db.User(name)
}

// DeleteUser runs userdel (with -r only when asked) on a user the guard
// lets through; a missing user is success.
func (s *Shadow) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	if err := checkRef(name, opts.MarkerGroup); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	db, _, err := s.load()
	if err != nil {
		return err
	}
	if _, err := db.Guard(name, opts.MarkerGroup); sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	argv := []string{"userdel"}
	if opts.RemoveHome {
		argv = append(argv, "-r")
	}
	_, err = s.run(ctx, append(argv, "--", name), nil)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	}
	return err
}

func (s *Shadow) GetUser(_ context.Context, name string) (accounts.User, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.User{}, err
	}
	return s.reload(name)
}

func (s *Shadow) ListUsers(_ context.Context, group string) ([]accounts.User, error) {
	if err := check.OptionalName("group", group); err != nil {
		return nil, err
	}
	db, _, err := s.load()
	if err != nil {
		return nil, err
	}
	return db.Users(group)
}

// LockUser locks the password (usermod -L puts "!" in front, once) and
// expires the account (day 1), so that neither a password nor a key, with
// or without PAM, logs in.
func (s *Shadow) LockUser(ctx context.Context, name, markerGroup string) error {
	return s.change(ctx, name, markerGroup, func(*etcdb.DB) []string {
		return []string{"usermod", "-L", "-e", "1", "--", name}
	})
}

// UnlockUser undoes LockUser: one "!" removed and no expiry.
func (s *Shadow) UnlockUser(ctx context.Context, name, markerGroup string) error {
	return s.change(ctx, name, markerGroup, func(db *etcdb.DB) []string {
		return unlockArgv(name, db.Password(name), db.Tables[etcdb.Shadow].Field(name, 7))
	})
}

// change runs the command argv builds on a guarded user; nil argv is a
// no-op.
func (s *Shadow) change(ctx context.Context, name, markerGroup string, argv func(*etcdb.DB) []string) error {
	if err := checkRef(name, markerGroup); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	db, _, err := s.load()
	if err != nil {
		return err
	}
	if _, err := db.Guard(name, markerGroup); err != nil {
		return err
	}
	if cmd := argv(db); cmd != nil {
		_, err = s.run(ctx, cmd, nil)
	}
	return err
}

// SetUserGroups makes groups plus the marker group the user's exact
// supplementary set (usermod -G).
func (s *Shadow) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (accounts.User, error) {
	if err := checkRef(name, markerGroup); err != nil {
		return accounts.User{}, err
	}
	if err := check.Names("groups", groups); err != nil {
		return accounts.User{}, err
	}
	want := supplementary(groups, markerGroup)
	err := s.change(ctx, name, markerGroup, func(db *etcdb.DB) []string {
		if u, _ := db.User(name); slices.Equal(u.Groups, want) {
			return nil
		}
		return []string{"usermod", "-G", strings.Join(want, ","), "--", name}
	})
	if err != nil {
		return accounts.User{}, err
	}
	return s.reload(name)
}

func checkRef(name, markerGroup string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	return check.OptionalName("marker_group", markerGroup)
}
