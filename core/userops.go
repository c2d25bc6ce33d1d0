package core

import (
	"context"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"slices"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// UserKeyAdd installs public keys in the user's authorized_keys.
func (s *Service) UserKeyAdd(ctx context.Context, name string, keys []string) (User, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return User{}, err
	}
	if err := refuseFleetEdit(ctx, u, "add its keys"); err != nil {
		return User{}, err
	}
	if len(keys) == 0 {
		return User{}, InvalidField("keys", "at least one key is required")
	}
	keys, err = normalizeKeys("keys", keys)
	if err != nil {
		return User{}, err
	}
	if err := s.needPlugins(); err != nil {
		return User{}, err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	if _, err := s.plugins.SSHKeys().AddAuthorizedKeys(ctx, u.lifecycleUser(), keys); err != nil {
		return User{}, FromPluginError(err)
	}
	return s.saveUser(name, func(u *User) {
		merged, _ := normalizeKeys("keys", append(slices.Clone(u.SSHKeys), keys...))
		u.SSHKeys = merged
	})
}

// UserKeyRemove removes a key, named by its SHA256 fingerprint or given
// whole, from the user's authorized_keys.
func (s *Service) UserKeyRemove(ctx context.Context, name, key string) (User, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return User{}, err
	}
	if err := refuseFleetEdit(ctx, u, "remove its keys"); err != nil {
		return User{}, err
	}
	fp := key
	if ak, err := sshkeys.ParseAuthorizedKey(key); err == nil {
		fp = ak.Fingerprint
	} else if sshkeys.ValidateFingerprint(key) != nil {
		return User{}, InvalidField("key", "is neither a public key nor a SHA256: fingerprint")
	}
	if err := s.needPlugins(); err != nil {
		return User{}, err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	if _, err := s.plugins.SSHKeys().RemoveAuthorizedKey(ctx, u.lifecycleUser(), fp); err != nil {
		return User{}, FromPluginError(err)
	}
	return s.saveUser(name, func(u *User) {
		u.SSHKeys = slices.DeleteFunc(u.SSHKeys, func(k string) bool {
			ak, err := sshkeys.ParseAuthorizedKey(k)
			return err == nil && ak.Fingerprint == fp
		})
	})
}

// UserQuotaSet changes the home's quota; 0 removes the limit.
func (s *Service) UserQuotaSet(ctx context.Context, name string, bytes int64) (User, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return User{}, err
	}
	if err := refuseFleetEdit(ctx, u, "set its quota"); err != nil {
		return User{}, err
	}
	if bytes < 0 {
		return User{}, InvalidField("quota", "must not be negative")
	}
	if err := s.needPlugins(); err != nil {
		return User{}, err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	if _, err := s.plugins.Volumes().SetQuota(ctx, u.Home, uint64(bytes)); err != nil {
		return User{}, FromPluginError(err)
	}
	return s.saveUser(name, func(u *User) { u.QuotaBytes = bytes })
}

// SessionList lists login sessions, of one user or of everyone.
func (s *Service) SessionList(ctx context.Context, user string) ([]Session, error) {
	if user != "" {
		if err := ValidateUsername("user", user); err != nil {
			return nil, err
		}
	}
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	list, err := s.plugins.Sessions().ListSessions(ctx, user)
	if err != nil {
		return nil, FromPluginError(err)
	}
	// The plugin's answer is checked, not trusted: a session of an
	// account this host does not manage (root's, say), of another user
	// than the one asked for, or without a valid id is not shown; and
	// what would not encode (a time outside years 1..9999, a negative pid
	// or idle time) is left out of the session.
	managed := map[string]bool{}
	err = s.store.View(func(tx Tx) error {
		seen := map[string]bool{}
		for _, ss := range list {
			if ss.User == "" || seen[ss.User] {
				continue
			}
			seen[ss.User] = true
			if _, err := tx.Get(keyUser + ss.User); err == nil {
				managed[ss.User] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(list))
	dropped := 0
	for _, ss := range list {
		if !managed[ss.User] || (user != "" && ss.User != user) || sessions.ValidateID(ss.ID) != nil {
			dropped++
			continue
		}
		started := ss.Started
		if y := started.Year(); y < 1 || y > 9999 {
			started = time.Time{}
		}
		pids := make([]int, 0, len(ss.PIDs))
		for _, p := range ss.PIDs {
			if p > 0 {
				pids = append(pids, p)
			}
		}
		out = append(out, Session{
			ID: ss.ID, User: ss.User, TTY: ss.TTY, RemoteHost: ss.RemoteHost,
			Started: started, IdleSecs: max(0, int64(ss.Idle.Seconds())), PIDs: pids,
		})
	}
	if dropped > 0 {
		s.log.Warn("the sessions plugin listed sessions not shown: not of a managed user, not of the user asked for, or without a valid id", "count", dropped)
	}
	return out, nil
}

// SessionKill ends one session of user (id given) or all of them. It
// returns how many sessions it ended. Only managed users' sessions can be
// killed, and a session id must belong to the user named.
func (s *Service) SessionKill(ctx context.Context, user, id string) (int, error) {
	if _, err := s.UserGet(ctx, user); err != nil {
		return 0, err
	}
	if err := s.needPlugins(); err != nil {
		return 0, err
	}
	ss := s.plugins.Sessions()
	if id == "" {
		n, err := ss.KillUserSessions(ctx, user, KillGrace)
		return n, FromPluginError(err)
	}
	list, err := ss.ListSessions(ctx, user)
	if err != nil {
		return 0, FromPluginError(err)
	}
	for _, x := range list {
		if x.ID == id {
			return 1, FromPluginError(ss.KillSession(ctx, id, KillGrace))
		}
	}
	return 0, &Error{Code: NotFound, Field: "session", Message: "user " + user + " has no session " + id}
}
