package limitsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
)

// Routed is a limits.Limits whose every call runs on the implementation r
// routes it to: the host's client, which finds the live plugin process at
// each call.
func Routed(r concern.Router) limits.Limits { return routed{r} }

type routed struct{ r concern.Router }

var _ limits.Limits = routed{}

func (c routed) Set(ctx context.Context, u lifecycle.User, v limits.Values) (out int, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p limits.Limits) (err error) {
		out, err = p.Set(ctx, u, v)
		return err
	})
	return out, err
}

func (c routed) Get(ctx context.Context, u lifecycle.User) (out limits.Values, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p limits.Limits) (err error) {
		out, err = p.Get(ctx, u)
		return err
	})
	return out, err
}

func (c routed) Forget(ctx context.Context, u lifecycle.User) (out lifecycle.Forgotten, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p limits.Limits) (err error) {
		out, err = p.Forget(ctx, u)
		return err
	})
	return out, err
}
