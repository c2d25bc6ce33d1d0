package core

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// KillGrace is how long a user's processes get between SIGTERM and SIGKILL.
const KillGrace = 2 * time.Second

// UserDelete removes a managed user: sessions, home volume (or a read-only
// snapshot of it with keepHome), account, state. Users outside the marker
// group and uid 0 are refused whatever their name. An interrupted delete is
// completed at the next start.
func (s *Service) UserDelete(ctx context.Context, name string, keepHome bool) error {
	if err := ValidateUsername("name", name); err != nil {
		return err
	}
	if err := s.needPlugins(); err != nil {
		return err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	rec, stateErr := s.UserGet(ctx, name)
	if stateErr == nil {
		if err := refuseFleetEdit(ctx, rec, "delete"); err != nil {
			return err
		}
	}
	acct, err := s.plugins.Accounts().GetUser(ctx, name)
	switch {
	case err == nil && acct.UID == 0:
		return InvalidField("name", "%q has uid 0; hero_codescalers never deletes it", name)
	case err == nil && !s.inMarker(acct):
		return &Error{Code: Forbidden, Field: "name", Message: name + " is not a member of " + s.cfg.MarkerGroup + "; hero_codescalers does not manage it"}
	case err != nil && !IsCode(FromPluginError(err), NotFound):
		return FromPluginError(err)
	case err != nil && stateErr != nil:
		return stateErr
	}
	j := s.newJournal("delete", name, filepath.Join(s.cfg.HomeRoot, name))
	j.entry.KeepHome = keepHome
	j.entry.UID, j.entry.GID = s.deletedIDs(name, acct, err == nil)
	if err := j.save(); err != nil {
		return err
	}
	return s.runDelete(ctx, j)
}

// deleteSteps are the steps of a delete; each is idempotent, so a delete
// interrupted anywhere can simply be run again from the top. The user's
// keys go first (no login can start while its sessions end), then its
// processes, then whatever else the concerns keep of it outside the home
// (lifecycle.Forgetter), then the home, then the account.
func (s *Service) deleteSteps() []struct {
	name string
	do   func(context.Context, *journalEntry) error
} {
	return []struct {
		name string
		do   func(context.Context, *journalEntry) error
	}{
		{"keys", s.forgetKeys},
		{"sessions", s.delSessions},
		{"forget", s.forgetRest},
		{"volume", s.delVolume},
		{"account", s.deleteAccount},
	}
}

// runDelete runs (or re-runs) every step and ends by dropping the user
// record and the journal in one transaction. The entry is on disk before
// the first step; the steps need no further writes, since recovery runs
// them all again from the top.
func (s *Service) runDelete(ctx context.Context, j *journal) error {
	for _, st := range s.deleteSteps() {
		err := s.runStep(ctx, j, "delete", st.name, false, func() error { return st.do(ctx, &j.entry) })
		if err != nil {
			// The journal keeps the delete; recovery carries it to its end.
			s.KickRecovery()
			return stepError(st.name, err)
		}
	}
	return j.finish(func(tx Tx) error {
		if err := dropMemberships(tx, j.entry.User); err != nil {
			return err
		}
		return tx.Delete(keyUser + j.entry.User)
	})
}

// deletedIDs are the ids a delete's Forget names the user by: the
// account's, or the state's when the account is gone already.
func (s *Service) deletedIDs(name string, acct accounts.User, onMachine bool) (int, int) {
	if onMachine {
		return int(acct.UID), int(acct.GID)
	}
	var u User
	_ = s.store.View(func(tx Tx) error { _, err := getJSON(tx, keyUser+name, &u); return err })
	return u.UID, u.GID
}

// dropMemberships takes user out of every group of the state, as userdel
// takes the account out of the machine's groups.
func dropMemberships(tx Tx, user string) error {
	var changed []Group
	err := tx.Scan(keyGroup, false, func(_ string, v []byte) (bool, error) {
		var g Group
		if err := json.Unmarshal(v, &g); err != nil {
			return false, err
		}
		if slices.Contains(g.Members, user) {
			g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == user })
			changed = append(changed, g)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, g := range changed {
		if err := putJSON(tx, keyGroup+g.Name, g); err != nil {
			return err
		}
	}
	return nil
}

// delSessions ends every process of the user before anything of it is
// removed or locked: its sessions, then every other process of its uid —
// a daemon, a cron job, a stray that forks in a loop — since userdel
// refuses an account still in use, and a locked account's processes would
// run on. A sessions plugin that predates KillUser ends sessions only.
func (s *Service) delSessions(ctx context.Context, e *journalEntry) error {
	ss := s.plugins.Sessions()
	ended, err := ss.KillUser(ctx, e.User, KillGrace)
	if sdkerr.Is(err, sdkerr.Unimplemented) {
		s.log.Warn("the sessions plugin has no KillUser: ending sessions only; processes outside them are left", "user", e.User)
		_, err = ss.KillUserSessions(ctx, e.User, KillGrace)
	} else if err == nil && ended.Processes > 0 {
		s.log.Info("ended processes outside the user's sessions", "user", e.User,
			"sessions", ended.Sessions, "processes", ended.Processes)
	}
	if err := FromPluginError(err); err != nil && !IsCode(err, NotFound) {
		return err
	}
	return nil
}

// delVolume removes the home; with keep-home it is first kept as a
// read-only snapshot (retireVolume).
func (s *Service) delVolume(ctx context.Context, e *journalEntry) error {
	keep := ""
	if e.KeepHome {
		keep = s.deletedPath(e.User, e.Started)
	}
	return s.retireVolume(ctx, e.Home, keep)
}

// deletedPath is where a volume kept at its delete goes:
// <home root>/.deleted/NAME-TIME.
func (s *Service) deletedPath(name string, at time.Time) string {
	return filepath.Join(s.cfg.HomeRoot, ".deleted", fmt.Sprintf("%s-%s", name, at.UTC().Format("20060102T150405Z")))
}

// retireVolume deletes the volume at path. With keepAs it first takes a
// read-only snapshot there, or, where the volume plugin has no snapshots,
// leaves the volume where it is, its top directory root's and closed
// (mode 0700). A volume already gone is no error, and a
// snapshot already taken (a delete run again) is kept.
func (s *Service) retireVolume(ctx context.Context, path, keepAs string) error {
	v := s.plugins.Volumes()
	if keepAs != "" {
		_, err := v.Snapshot(ctx, volumes.SnapshotSpec{Source: path, Dest: keepAs, ReadOnly: true})
		switch perr := FromPluginError(err); {
		case perr == nil, IsCode(perr, AlreadyExists):
		case IsCode(perr, FailedPrecondition):
			// Kept where it is, it must not stay its old owner's: the
			// accounts plugin may give that uid to the next account,
			// which would then read the forge token and the private key
			// inside. Root takes the top directory, closed to all.
			err := FromPluginError(v.EnsureDir(ctx, path, volumes.Owner{UID: 0, GID: 0, Mode: 0o700}))
			if err != nil && !IsCode(err, NotFound) {
				return err
			}
			s.log.Info("volume plugin has no snapshots; home kept in place, closed to all but root", "path", path)
			return nil
		case IsCode(perr, NotFound):
			return nil
		default:
			return perr
		}
	}
	if err := FromPluginError(v.DeleteVolume(ctx, path)); err != nil && !IsCode(err, NotFound) {
		return err
	}
	return nil
}

// UserLock locks the account and ends its sessions and every other
// process of it.
func (s *Service) UserLock(ctx context.Context, name string) (User, error) {
	return s.setLocked(ctx, name, true)
}

// UserUnlock unlocks the account.
func (s *Service) UserUnlock(ctx context.Context, name string) (User, error) {
	return s.setLocked(ctx, name, false)
}

func (s *Service) setLocked(ctx context.Context, name string, locked bool) (User, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return User{}, err
	}
	if err := refuseFleetEdit(ctx, u, map[bool]string{true: "lock", false: "unlock"}[locked]); err != nil {
		return User{}, err
	}
	if err := s.needPlugins(); err != nil {
		return User{}, err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	a := s.plugins.Accounts()
	if locked {
		if err := a.LockUser(ctx, name, s.cfg.MarkerGroup); err != nil {
			return User{}, FromPluginError(err)
		}
		if err := s.delSessions(ctx, &journalEntry{User: name}); err != nil {
			return User{}, err
		}
	} else if err := a.UnlockUser(ctx, name, s.cfg.MarkerGroup); err != nil {
		return User{}, FromPluginError(err)
	}
	state := UserActive
	if locked {
		state = UserLocked
	}
	return s.saveUser(name, func(u *User) { u.State = state })
}
