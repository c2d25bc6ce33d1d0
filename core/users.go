package core

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

func (s *Service) needPlugins() error {
	if s.plugins == nil {
		return Errorf(Unavailable, "no OS plugins are running on this host")
	}
	return nil
}

// UserCreate provisions a developer account all-or-nothing (DESIGN.md §3):
// account, home volume with quota, layout and modes, the driver's socket
// ACL, keys, and hero_cfg.toml. The result carries the generated public key.
func (s *Service) UserCreate(ctx context.Context, spec CreateSpec) (User, error) {
	if err := s.validateCreate(&spec); err != nil {
		return User{}, err
	}
	if err := s.needPlugins(); err != nil {
		return User{}, err
	}
	unlock := s.locks.Lock(spec.Name)
	defer unlock()
	if err := s.checkNewName(ctx, spec.Name); err != nil {
		return User{}, err
	}
	r := &createRun{spec: spec, l: s.layoutOf(spec.Name)}
	var err error
	if r.homeOwner, err = s.homeBefore(ctx, r.l.home, spec.UID, nil); err != nil {
		return User{}, err
	}
	if err := s.ensureMarkerGroup(ctx); err != nil {
		return User{}, stepError("account", err)
	}
	ctx = s.syncCtx(ctx)
	if err := s.runCreate(ctx, r); err != nil {
		return User{}, err
	}
	var u User
	s.finishCreates(ctx, []*createRun{r}, func(_ int, got User, gotErr error) { u, err = got, gotErr })
	return u, err
}

// userRecord is the state's record of the user r created.
func (s *Service) userRecord(r *createRun) User {
	now := s.now().UTC()
	return User{
		Name: r.spec.Name, UID: r.user.UID, GID: r.user.GID, Shell: r.spec.Shell, Home: r.l.home,
		Groups: nonNil(r.spec.Groups), QuotaBytes: r.spec.QuotaBytes, SSHKeys: r.spec.SSHKeys, Limits: r.spec.limits(),
		PublicKey: r.user.PublicKey, State: UserActive, Created: now, Updated: now, Fleet: r.spec.Fleet,
	}
}

// checkNewName refuses a name that is taken: in our state, or on the
// machine (a managed account we lost track of, or anybody else's).
func (s *Service) checkNewName(ctx context.Context, name string) error {
	u, err := s.plugins.Accounts().GetUser(ctx, name)
	perr := FromPluginError(err)
	if perr != nil && !IsCode(perr, NotFound) {
		return perr
	}
	return s.nameFree(ctx, name, u, perr == nil)
}

// nameFree refuses name when the state has it, or when the machine has an
// account of that name (u, looked up by the caller: one GetUser for a
// single create, one listing for a batch).
func (s *Service) nameFree(ctx context.Context, name string, u accounts.User, onMachine bool) error {
	if _, err := s.UserGet(ctx, name); err == nil {
		return &Error{Code: AlreadyExists, Field: "name", Message: "user " + name + " already exists"}
	}
	switch {
	case !onMachine:
		return nil
	case s.inMarker(u):
		return &Error{Code: AlreadyExists, Field: "name", Message: "account " + name + " exists on this machine in group " + s.cfg.MarkerGroup + " but not in the state; run reconcile"}
	default:
		return InvalidField("name", "%q is an existing account not managed by hero_codescalers", name)
	}
}

// EnsureMarkerGroup creates the marker group if it is missing. The host
// calls it at start-up, so the group is part of the machine before any user
// is, and deleting the last user leaves the account files as they were.
func (s *Service) EnsureMarkerGroup(ctx context.Context) error {
	if err := s.needPlugins(); err != nil {
		return err
	}
	return s.ensureMarkerGroup(ctx)
}

// ensureMarkerGroup creates the marker group once per host run; the
// plugins' create is idempotent, so a lost race is harmless.
func (s *Service) ensureMarkerGroup(ctx context.Context) error {
	if s.markerReady.Load() {
		return nil
	}
	if _, err := s.plugins.Accounts().CreateGroup(ctx, s.cfg.MarkerGroup, 0); err != nil {
		return FromPluginError(err)
	}
	s.markerReady.Store(true)
	return nil
}

func (s *Service) inMarker(u accounts.User) bool {
	return slices.Contains(u.Groups, s.cfg.MarkerGroup)
}

// UserGet returns one managed user from the state.
func (s *Service) UserGet(ctx context.Context, name string) (User, error) {
	if err := ValidateUsername("name", name); err != nil {
		return User{}, err
	}
	var u User
	err := s.store.View(func(tx Tx) error {
		found, err := getJSON(tx, keyUser+name, &u)
		if err == nil && !found {
			return notFound(ErrKeyNotFound, "user", name)
		}
		return err
	})
	return u, err
}

// UserInspect is UserGet with what the machine has of the user, asked of
// its plugins (Installed): the keys the user may log in with. A plugin
// that cannot answer is reported in Installed.Error, not as a failure.
func (s *Service) UserInspect(ctx context.Context, name string) (User, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil || s.plugins == nil {
		return u, err
	}
	in := &Installed{Keys: []string{}}
	keys, err := s.plugins.SSHKeys().ListAuthorizedKeys(ctx, u.lifecycleUser())
	if err != nil {
		in.Error = FromPluginError(err).Error()
	}
	for _, k := range keys {
		in.Keys = append(in.Keys, k.Fingerprint)
	}
	s.installedLimits(ctx, u, in)
	u.Installed = in
	return u, nil
}

// UserFilter selects users in UserList.
type UserFilter struct {
	Prefix string
	Group  string
	State  UserState
	Limit  int
	After  string // the last name of the previous page
}

// UserList pages through managed users in name order; next is the cursor
// of the following page, empty at the end.
func (s *Service) UserList(ctx context.Context, f UserFilter) (users []User, next string, err error) {
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, "", InvalidField("limit", "must be 0..1000")
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.State != "" && f.State != UserActive && f.State != UserLocked {
		return nil, "", InvalidField("state", "must be active or locked")
	}
	users = []User{}
	err = s.store.View(func(tx Tx) error {
		return tx.Scan(keyUser+f.Prefix, false, func(key string, v []byte) (bool, error) {
			name := strings.TrimPrefix(key, keyUser)
			if f.After != "" && name <= f.After {
				return true, nil
			}
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return false, err
			}
			if (f.Group != "" && !slices.Contains(u.Groups, f.Group)) || (f.State != "" && u.State != f.State) {
				return true, nil
			}
			if len(users) == f.Limit {
				next = users[len(users)-1].Name
				return false, nil
			}
			users = append(users, u)
			return true, nil
		})
	})
	return users, next, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// saveUser applies fn to the stored user and writes it back.
func (s *Service) saveUser(name string, fn func(*User)) (User, error) {
	var u User
	err := s.store.Update(func(tx Tx) error {
		found, err := getJSON(tx, keyUser+name, &u)
		if err != nil {
			return err
		}
		if !found {
			return notFound(ErrKeyNotFound, "user", name)
		}
		fn(&u)
		u.Updated = s.now().UTC()
		return putJSON(tx, keyUser+name, u)
	})
	return u, err
}
