package sshkeysgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Routed is an sshkeys.SSHKeys whose every call runs on the implementation
// r routes it to: the host's client, which finds the live plugin process
// at each call.
func Routed(r concern.Router) sshkeys.SSHKeys { return routed{r} }

type routed struct{ r concern.Router }

var _ sshkeys.SSHKeys = routed{}

func (c routed) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (out sshkeys.Keypair, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.GenerateKeypair(ctx, spec)
		return err
	})
	return out, err
}

func (c routed) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (out sshkeys.Added, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.AddAuthorizedKeys(ctx, u, keys)
		return err
	})
	return out, err
}

func (c routed) RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (out int, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.RemoveAuthorizedKey(ctx, u, fingerprint)
		return err
	})
	return out, err
}

func (c routed) ListAuthorizedKeys(ctx context.Context, u lifecycle.User) (out []sshkeys.AuthorizedKey, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.ListAuthorizedKeys(ctx, u)
		return err
	})
	return out, err
}

func (c routed) Forget(ctx context.Context, u lifecycle.User) (out lifecycle.Forgotten, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sshkeys.SSHKeys) (err error) {
		out, err = p.Forget(ctx, u)
		return err
	})
	return out, err
}
