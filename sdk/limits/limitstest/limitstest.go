// Package limitstest holds the conformance checks of the limits concern,
// which the kit (sdk/plugintest) runs against every limits plugin: bad
// users and values refused, Set and Forget idempotent and read back, and
// nothing of a user's limits left after Forget.
package limitstest

import (
	"context"
	"fmt"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
)

// Checks are the limits concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
	{Name: "lifecycle", Run: life},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	_, err := impl.(limits.Limits).Get(ctx, lifecycle.User{})
	return err
}

func invalidInput(ctx context.Context, env *conformance.Env, impl any) error {
	l := impl.(limits.Limits)
	ok := limits.Values{MilliCPU: 1000, Memory: 64 << 20}
	var cases []conformance.BadCase
	for _, n := range conformance.BadNames {
		u := lifecycle.User{Name: n, UID: env.Owner.UID, GID: env.Owner.GID}
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("Set(%q)", n), Call: func(ctx context.Context) error { _, err := l.Set(ctx, u, ok); return err }},
			conformance.BadCase{What: fmt.Sprintf("Get(%q)", n), Call: func(ctx context.Context) error { _, err := l.Get(ctx, u); return err }},
			conformance.BadCase{What: fmt.Sprintf("Forget(%q)", n), Call: func(ctx context.Context) error { _, err := l.Forget(ctx, u); return err }},
		)
	}
	u := lifecycle.User{Name: "ptest-" + conformance.RandomSuffix(), UID: 60999, GID: 60999}
	root := lifecycle.User{Name: "ptest-root", UID: 0, GID: 0}
	cases = append(cases,
		conformance.BadCase{What: "Set of uid 0", Call: func(ctx context.Context) error { _, err := l.Set(ctx, root, ok); return err }},
		conformance.BadCase{What: "Get of uid 0", Call: func(ctx context.Context) error { _, err := l.Get(ctx, root); return err }},
		conformance.BadCase{What: "Set with a relative home", Call: func(ctx context.Context) error {
			_, err := l.Set(ctx, lifecycle.User{Name: u.Name, UID: u.UID, Home: "home/x"}, ok)
			return err
		}},
	)
	for what, v := range map[string]limits.Values{
		"cpu below the floor":      {MilliCPU: limits.MinMilliCPU - 1},
		"cpu above the ceiling":    {MilliCPU: limits.MaxMilliCPU + 1},
		"memory below the floor":   {Memory: limits.PageSize},
		"memory above the ceiling": {Memory: limits.MaxMemory + limits.PageSize},
		"memory not in pages":      {Memory: 64<<20 + 1},
	} {
		cases = append(cases, conformance.BadCase{What: "Set with " + what, Call: func(ctx context.Context) error {
			_, err := l.Set(ctx, u, v)
			return err
		}})
	}
	return env.ExpectInvalid(ctx, cases)
}

// owner is the account the checks that change limits act for; root's
// limits are never set, so a kit running as root without a sandbox (whose
// owner would be root) skips them.
func owner(env *conformance.Env) (lifecycle.User, error) {
	if !env.Destructive {
		return lifecycle.User{}, conformance.Skip("setting limits changes the machine's cgroups: the check runs with the sandbox (destructive) only")
	}
	if env.Owner.UID == 0 {
		return lifecycle.User{}, conformance.Skip("the kit's account is root, whose limits are never set")
	}
	return env.User(env.Dir), nil
}

func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	l := impl.(limits.Limits)
	u, err := owner(env)
	if err != nil {
		return err
	}
	s := env.Steps(ctx)
	v := limits.Values{MilliCPU: 1500, Memory: 256 << 20}
	s.Do("Forget before any limit", func(ctx context.Context) error { _, err := l.Forget(ctx, u); return err })
	s.Do("Get without limits", func(ctx context.Context) error { return want(ctx, l, u, limits.Values{}) })
	s.Do("Set twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { _, err := l.Set(ctx, u, v); return err })
	})
	s.Do("Get what was set", func(ctx context.Context) error { return want(ctx, l, u, v) })
	s.Do("Set lifting the cpu limit", func(ctx context.Context) error { _, err := l.Set(ctx, u, limits.Values{Memory: v.Memory}); return err })
	s.Do("Get the memory limit alone", func(ctx context.Context) error { return want(ctx, l, u, limits.Values{Memory: v.Memory}) })
	s.Do("Forget twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { _, err := l.Forget(ctx, u); return err })
	})
	s.Do("Get after Forget", func(ctx context.Context) error { return want(ctx, l, u, limits.Values{}) })
	return s.Verdict()
}

func want(ctx context.Context, l limits.Limits, u lifecycle.User, v limits.Values) error {
	got, err := l.Get(ctx, u)
	if err != nil {
		return err
	}
	if got != v {
		return fmt.Errorf("Get(%s) = %s, want %s", u.Name, got, v)
	}
	return nil
}

// life drives the plugin through a user's life as the host does
// (conformance.RunLifecycle): a create with limits sets them, a delete or
// a rollback forgets the user, after which no limit of it may be read
// back: a user re-created under the same uid starts without any.
func life(ctx context.Context, env *conformance.Env, impl any) error {
	l := impl.(limits.Limits)
	if _, err := owner(env); err != nil {
		return err
	}
	round := func(r int) limits.Values {
		return limits.Values{MilliCPU: uint32(500 * r), Memory: uint64(64*r) << 20}
	}
	return env.RunLifecycle(ctx, conformance.Lifecycle{
		Create: func(ctx context.Context, u lifecycle.User, r int) ([]string, error) {
			_, err := l.Set(ctx, u, round(r))
			return nil, err
		},
		ReadBack: func(ctx context.Context, u lifecycle.User, r int) error { return want(ctx, l, u, round(r)) },
		Forget: func(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
			f, err := l.Forget(ctx, u)
			if err != nil {
				return f, err
			}
			if err := want(ctx, l, u, limits.Values{}); err != nil {
				return f, fmt.Errorf("after Forget: %w", err)
			}
			return f, nil
		},
	})
}
