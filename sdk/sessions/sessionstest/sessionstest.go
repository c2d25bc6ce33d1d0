// Package sessionstest holds the conformance checks of the sessions
// concern, which the kit (sdk/plugintest) runs against every sessions
// plugin: bad user names and session ids refused, and ending what is
// already gone succeeding.
package sessionstest

import (
	"context"
	"fmt"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// Checks are the sessions concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
	{Name: "lifecycle", Run: life},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	return impl.(sessions.Sessions).KillSession(ctx, "", 0)
}

func invalidInput(ctx context.Context, env *conformance.Env, impl any) error {
	s := impl.(sessions.Sessions)
	var cases []conformance.BadCase
	for _, n := range conformance.BadNames {
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("KillUserSessions(%q)", n), Call: func(ctx context.Context) error {
				_, err := s.KillUserSessions(ctx, n, 0)
				return err
			}},
			conformance.BadCase{What: fmt.Sprintf("KillUser(%q)", n), Call: func(ctx context.Context) error {
				_, err := s.KillUser(ctx, n, 0)
				return err
			}},
		)
		if n != "" {
			cases = append(cases, conformance.BadCase{What: fmt.Sprintf("ListSessions(%q)", n), Call: func(ctx context.Context) error {
				_, err := s.ListSessions(ctx, n)
				return err
			}})
		}
	}
	for _, id := range conformance.BadIDs {
		cases = append(cases, conformance.BadCase{What: fmt.Sprintf("KillSession(%q)", conformance.Abbrev(id, 24)),
			Call: func(ctx context.Context) error { return s.KillSession(ctx, id, 0) }})
	}
	return env.ExpectInvalid(ctx, cases)
}

func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	ss := impl.(sessions.Sessions)
	s := env.Steps(ctx)
	s.Do("ListSessions", func(ctx context.Context) error { _, err := ss.ListSessions(ctx, ""); return err })
	id := "ptest-" + conformance.RandomSuffix()
	s.Do("KillSession of a missing session", func(ctx context.Context) error { return ss.KillSession(ctx, id, 0) })
	s.Do("KillUserSessions of a user without sessions", func(ctx context.Context) error {
		_, err := ss.KillUserSessions(ctx, id, 0)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return nil
		}
		return err
	})
	// A plugin built before KillUser joined the contract answers
	// Unimplemented; the host then ends sessions only.
	s.Do("KillUser of a user without an account", func(ctx context.Context) error {
		e, err := ss.KillUser(ctx, id, 0)
		switch {
		case sdkerr.Is(err, sdkerr.NotFound), sdkerr.Is(err, sdkerr.Unimplemented):
			return nil
		case err == nil && e != (sessions.Ended{}):
			return fmt.Errorf("ended %+v of a user without an account", e)
		}
		return err
	})
	return s.Verdict()
}
