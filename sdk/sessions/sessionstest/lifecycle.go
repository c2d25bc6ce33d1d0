package sessionstest

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// life drives the plugin through a user's end as the host does
// (conformance.RunLifecycle): a create asks nothing of a sessions plugin,
// a delete or a rollback ends the user's processes (KillUser) and then
// forgets the user; nothing of it may be left where the kit can see.
func life(ctx context.Context, env *conformance.Env, impl any) error {
	ss := impl.(sessions.Sessions)
	return env.RunLifecycle(ctx, conformance.Lifecycle{
		Create: func(context.Context, lifecycle.User, int) ([]string, error) { return nil, nil },
		ReadBack: func(ctx context.Context, u lifecycle.User, _ int) error {
			_, err := ss.ListSessions(ctx, u.Name)
			return err
		},
		Forget: func(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
			if _, err := ss.KillUser(ctx, u.Name, 0); err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
				return lifecycle.Forgotten{}, err
			}
			return ss.Forget(ctx, u)
		},
	})
}
