package sshkeystest

import (
	"context"
	"fmt"
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// life drives the plugin through a user's life as the host does
// (conformance.RunLifecycle): create adds a key of the round and makes the
// user's keypair under DeferSync, read back lists exactly the round's key
// — a re-created user that still sees an earlier round's key inherited it.
func life(ctx context.Context, env *conformance.Env, impl any) error {
	k := impl.(sshkeys.SSHKeys)
	keys := map[int]string{}
	return env.RunLifecycle(ctx, conformance.Lifecycle{
		Create: func(ctx context.Context, u lifecycle.User, round int) ([]string, error) {
			keys[round] = sshkeys.FakePublicKey(fmt.Sprintf("ptest-round-%d", round))
			ctx = volumes.DeferSync(ctx)
			a, err := k.AddAuthorizedKeys(ctx, u, []string{keys[round]})
			if err != nil {
				return nil, fmt.Errorf("AddAuthorizedKeys: %w", err)
			}
			kp, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: u, Comment: "ptest"})
			if err != nil {
				return nil, fmt.Errorf("GenerateKeypair: %w", err)
			}
			return append(a.Unsynced, kp.Unsynced...), nil
		},
		ReadBack: func(ctx context.Context, u lifecycle.User, round int) error {
			listed, err := k.ListAuthorizedKeys(ctx, u)
			if err != nil {
				return err
			}
			want, _ := sshkeys.ParseAuthorizedKey(keys[round])
			var fps []string
			for _, l := range listed {
				fps = append(fps, l.Fingerprint)
			}
			for r := 1; r < round; r++ {
				old, _ := sshkeys.ParseAuthorizedKey(keys[r])
				if slices.Contains(fps, old.Fingerprint) {
					return fmt.Errorf("the re-created user %s may log in with the key of its earlier life (round %d, %s): Forget left it", u.Name, r, old.Fingerprint)
				}
			}
			if len(fps) != 1 || fps[0] != want.Fingerprint {
				return fmt.Errorf("listed %v, want only %s", fps, want.Fingerprint)
			}
			return nil
		},
		Forget: k.Forget,
	})
}
