package aclgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// Routed is an acl.ACL whose every call runs on the implementation r
// routes it to: the host's client, which finds the live plugin process at
// each call.
func Routed(r concern.Router) acl.ACL { return routed{r} }

type routed struct{ r concern.Router }

var _ acl.ACL = routed{}

func (c routed) Grant(ctx context.Context, path string, entries []acl.Entry, recursive bool) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p acl.ACL) error {
		return p.Grant(ctx, path, entries, recursive)
	})
}

func (c routed) Revoke(ctx context.Context, path string, entries []acl.Entry) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p acl.ACL) error {
		return p.Revoke(ctx, path, entries)
	})
}

func (c routed) Get(ctx context.Context, path string) (out acl.List, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p acl.ACL) (err error) {
		out, err = p.Get(ctx, path)
		return err
	})
	return out, err
}

func (c routed) SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p acl.ACL) error {
		return p.SetOwnership(ctx, path, uid, gid, mode)
	})
}

func (c routed) Forget(ctx context.Context, u lifecycle.User) (out lifecycle.Forgotten, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p acl.ACL) (err error) {
		out, err = p.Forget(ctx, u)
		return err
	})
	return out, err
}
