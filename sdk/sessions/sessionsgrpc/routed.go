package sessionsgrpc

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// Routed is a sessions.Sessions whose every call runs on the
// implementation r routes it to: the host's client, which finds the live
// plugin process at each call.
func Routed(r concern.Router) sessions.Sessions { return routed{r} }

type routed struct{ r concern.Router }

var _ sessions.Sessions = routed{}

func (c routed) ListSessions(ctx context.Context, user string) (out []sessions.Session, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.ListSessions(ctx, user)
		return err
	})
	return out, err
}

func (c routed) KillSession(ctx context.Context, id string, grace time.Duration) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p sessions.Sessions) error {
		return p.KillSession(ctx, id, grace)
	})
}

func (c routed) KillUserSessions(ctx context.Context, user string, grace time.Duration) (out int, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.KillUserSessions(ctx, user, grace)
		return err
	})
	return out, err
}

func (c routed) KillUser(ctx context.Context, user string, grace time.Duration) (out sessions.Ended, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.KillUser(ctx, user, grace)
		return err
	})
	return out, err
}

func (c routed) Forget(ctx context.Context, u lifecycle.User) (out lifecycle.Forgotten, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p sessions.Sessions) (err error) {
		out, err = p.Forget(ctx, u)
		return err
	})
	return out, err
}
