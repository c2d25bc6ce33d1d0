package main

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// The sessions attacks: a driver turned hostile trying to end processes
// of accounts hero_codescalers does not manage. Each would signal as that
// account (a KillUser of root is a kill(-1) as root); the plugin must
// refuse before it signals anything. The test runs a process as the
// unmanaged account and checks it survived.
func init() {
	s := func(impl any) sessions.Sessions { return impl.(sessions.Sessions) }
	const grace = 100 * time.Millisecond
	killUser := func(who func(*Scene) string) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, sc *Scene) error {
			_, err := s(impl).KillUser(ctx, who(sc), grace)
			return err
		}
	}
	killSessions := func(who func(*Scene) string) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, sc *Scene) error {
			_, err := s(impl).KillUserSessions(ctx, who(sc), grace)
			return err
		}
	}
	root := func(*Scene) string { return "root" }
	unmanaged := func(sc *Scene) string { return sc.Unmanaged }
	driver := func(sc *Scene) string { return sc.Driver }
	cases["sessions"] = []attack{
		{"KillUser root", killUser(root)},
		{"KillUser an unmanaged account", killUser(unmanaged)},
		{"KillUser the driver", killUser(driver)},
		{"KillUser a system account", killUser(func(*Scene) string { return "daemon" })},
		{"KillUserSessions root", killSessions(root)},
		{"KillUserSessions an unmanaged account", killSessions(unmanaged)},
	}
}
