package shadow

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
// same managed account; the spec is first made the policy's, or refused
// (etcdb.Judge.Spec). Two concurrent creates of one name (from this plugin or
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
	j, d, err := s.judged()
	if err != nil {
		return accounts.User{}, err
	}
	if spec, err = j.Spec(spec, d); err != nil {
		return accounts.User{}, err
	}
	if j.DB.HasUser(spec.Name) {
		return s.existing(ctx, j, d, spec)
	}
	if err := j.Fresh(spec); err != nil {
		return accounts.User{}, err
	}
	if err := s.ensureGroup(ctx, j.DB, spec.MarkerGroup, d); err != nil {
		return accounts.User{}, err
	}
	if _, err := s.run(ctx, useraddArgv(spec, d), nil); err != nil {
		if sdkerr.Is(err, sdkerr.AlreadyExists) {
			if j, d, lerr := s.judged(); lerr == nil && j.DB.HasUser(spec.Name) {
				return s.existing(ctx, j, d, spec)
			}
		}
		return accounts.User{}, err
	}
	return s.reload(spec.Name)
}

// existing answers a create of a name that exists: AlreadyExists when the
// account differs, PermissionDenied when it is not managed, else the user,
// after adding it to any supplementary group it lacks (each one joinable:
// spec passed Judge.Spec).
func (s *Shadow) existing(ctx context.Context, j *etcdb.Judge, d etcdb.Defs, spec accounts.UserSpec) (accounts.User, error) {
	u, err := j.Existing(spec, d)
	if err != nil {
		return u, err
	}
	missing := j.DB.MissingGroups(spec)
	if len(missing) == 0 {
		return u, nil
	}
	if _, err := s.run(ctx, []string{"usermod", "-a", "-G", strings.Join(missing, ","), "--", spec.Name}, nil); err != nil {
		return accounts.User{}, err
	}
	return s.reload(spec.Name)
}

// ensureGroup creates the policy's marker group unless it exists, with a
// gid from the policy's range. It is not put on the managed-groups record:
// no call may delete it or set its members.
func (s *Shadow) ensureGroup(ctx context.Context, db *etcdb.DB, group string, d etcdb.Defs) error {
	if _, ok := db.GID(group); ok {
		return nil
	}
	_, err := s.run(ctx, append(append([]string{"groupadd"}, gidRange(d)...), "--", group), nil)
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

// DeleteUser runs userdel (with -r only when asked, and only for a home
// beneath the policy's home roots) on a managed user, or on one a crashed
// batch left on the pending record (Judge.DeletableUser), whose empty home
// newusers made goes too. A missing user is success.
func (s *Shadow) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	if err := checkRef(name, opts.MarkerGroup); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	j, _, err := s.judged()
	if err != nil {
		return err
	}
	if err := j.Marker(opts.MarkerGroup); err != nil {
		return err
	}
	pend, err := etcdb.ReadPending(s.Etc)
	if err != nil {
		return err
	}
	u, err := j.DeletableUser(name, pend)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return s.dropPending(pend, name)
	} else if err != nil {
		return err
	}
	argv := []string{"userdel"}
	if opts.RemoveHome {
		if err := j.Home(u.Home); err != nil {
			return err
		}
		argv = append(argv, "-r")
	}
	_, err = s.run(ctx, append(argv, "--", name), nil)
	if err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return err
	}
	return s.dropPending(pend, name)
}

// dropPending takes name off the pending record once its account is gone,
// with the empty home newusers made for it.
func (s *Shadow) dropPending(pend map[string]etcdb.Pending, name string) error {
	p, ok := pend[name]
	if !ok {
		return nil
	}
	removeEmptyHome(p.Home, p.UID)
	delete(pend, name)
	return etcdb.WritePending(s.Etc, pend)
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
	return s.change(ctx, name, markerGroup, func(*etcdb.Judge, accounts.User) ([]string, error) {
		return []string{"usermod", "-L", "-e", "1", "--", name}, nil
	})
}

// UnlockUser undoes LockUser: one "!" removed and no expiry.
func (s *Shadow) UnlockUser(ctx context.Context, name, markerGroup string) error {
	return s.change(ctx, name, markerGroup, func(j *etcdb.Judge, _ accounts.User) ([]string, error) {
		return unlockArgv(name, j.DB.Password(name), j.DB.Tables[etcdb.Shadow].Field(name, 7)), nil
	})
}

// change runs the command argv builds on a managed user; nil argv is a
// no-op.
func (s *Shadow) change(ctx context.Context, name, markerGroup string, argv func(*etcdb.Judge, accounts.User) ([]string, error)) error {
	if err := checkRef(name, markerGroup); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	j, _, err := s.judged()
	if err != nil {
		return err
	}
	if err := j.Marker(markerGroup); err != nil {
		return err
	}
	u, err := j.ManagedUser(name)
	if err != nil {
		return err
	}
	cmd, err := argv(j, u)
	if err == nil && cmd != nil {
		_, err = s.run(ctx, cmd, nil)
	}
	return err
}

// SetUserGroups makes groups (each joinable) plus the marker group the
// user's supplementary set (usermod -G); a group it may not join that the
// user is in already stays, as an admin put it there.
func (s *Shadow) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (accounts.User, error) {
	if err := checkRef(name, markerGroup); err != nil {
		return accounts.User{}, err
	}
	if err := check.Names("groups", groups); err != nil {
		return accounts.User{}, err
	}
	err := s.change(ctx, name, markerGroup, func(j *etcdb.Judge, u accounts.User) ([]string, error) {
		want, err := j.UserGroups(u, groups)
		if err != nil || slices.Equal(u.Groups, want) {
			return nil, err
		}
		return []string{"usermod", "-G", strings.Join(want, ","), "--", name}, nil
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
