package core

import (
	"context"
	"errors"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// A user's end reaches every concern that may keep something of the user
// outside its home (lifecycle.Forgetter: sshkeys, acl, sessions, and any
// concern added later), since the host removes only the home: at a
// delete, at the rollback of a create, and when recovery finishes either.
// Nothing of a user may survive its end, or a user re-created under the
// same name would inherit it — a key in /etc/ssh/authorized_keys.d, say.

// lifecycleUser is the user a journal entry names, as a Forget names it.
func (e *journalEntry) lifecycleUser() lifecycle.User {
	return lifecycle.User{Name: e.User, UID: uint32(e.UID), GID: uint32(e.GID), Home: e.Home}
}

// forgetKeys ends the user's logins first: a delete revokes its keys
// before it ends its sessions, so none can start in between.
func (s *Service) forgetKeys(ctx context.Context, e *journalEntry) error {
	return s.forgetWith(ctx, sshkeys.Name, s.plugins.SSHKeys(), e)
}

// forgetRest tells every other concern of the user's end, in the sdk's
// order (the sessions plugin's after the user's processes ended).
func (s *Service) forgetRest(ctx context.Context, e *journalEntry) error {
	for _, c := range s.plugins.All() {
		f, ok := c.Client.(lifecycle.Forgetter)
		if !ok || c.Name == sshkeys.Name {
			continue
		}
		if err := s.forgetWith(ctx, c.Name, f, e); err != nil {
			return err
		}
	}
	return nil
}

// forgetAll is forgetKeys then forgetRest: the end of a user whose create
// is rolled back.
func (s *Service) forgetAll(ctx context.Context, e *journalEntry) error {
	if err := s.forgetKeys(ctx, e); err != nil {
		return err
	}
	return s.forgetRest(ctx, e)
}

// forgetWith asks one concern to forget the user. A journal entry without
// ids (a crash before the account step's ids reached the disk) is a user
// no concern holds anything of: every step after the account writes the
// ids first. A plugin that has no Forget is warned about, never waited
// for: the delete goes on.
func (s *Service) forgetWith(ctx context.Context, concern string, f lifecycle.Forgetter, e *journalEntry) error {
	if e.UID == 0 {
		return nil
	}
	got, err := f.Forget(ctx, e.lifecycleUser())
	switch {
	case errors.Is(err, ErrNotServed):
		return nil
	case sdkerr.Is(err, sdkerr.Unimplemented):
		s.log.Warn("the plugin has no Forget: what it keeps of the user outside the home is left", "concern", concern, "user", e.User)
		return nil
	case err != nil:
		return FromPluginError(err)
	case len(got.Removed) > 0:
		s.log.Info("forgot the user", "concern", concern, "user", e.User, "removed", got.Removed)
	}
	return nil
}
