package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// Forget drops what tmux keeps of a user once its servers are gone: the
// socket directory <Root>/tmux-<uid>, which a user re-created with the
// same uid would otherwise find (and a stale socket in it). The user is
// judged by the policy (a managed account of that uid, or no account of
// that name any more); the host ends the user's processes (KillUser)
// first, so nothing of the user can change the directory meanwhile.
func (t *Tmux) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := t.guard().Forgettable(u); err != nil {
		return lifecycle.Forgotten{}, err
	}
	dir := filepath.Join(t.root(), "tmux-"+strconv.FormatUint(uint64(u.UID), 10))
	if !ownedBy(dir, int(u.UID), true) {
		return lifecycle.Forgotten{}, nil // none, or not this user's tmux
	}
	if err := os.RemoveAll(dir); err != nil {
		return lifecycle.Forgotten{}, sdk.Errorf(sdk.Internal, "remove %s: %v", dir, err)
	}
	return lifecycle.Forgotten{Removed: []string{dir}}, nil
}
