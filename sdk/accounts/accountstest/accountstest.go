// Package accountstest holds the conformance checks of the accounts
// concern, which the kit (sdk/plugintest) runs against every accounts
// plugin: bad names refused before any tool runs, and create, lock,
// unlock and delete of a throwaway account idempotent (with
// Env.Destructive only: they change the machine's account files).
package accountstest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
)

// Checks are the accounts concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	_, err := impl.(accounts.Accounts).GetUser(ctx, "")
	return err
}

// invalidInput calls only read-only methods with bad names unless the run
// is destructive: a plugin that wrongly accepts "-rf" must not get to run
// useradd with it on the machine under test.
func invalidInput(ctx context.Context, env *conformance.Env, impl any) error {
	a := impl.(accounts.Accounts)
	var cases []conformance.BadCase
	for _, n := range conformance.BadNames {
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("GetUser(%q)", n), Call: func(ctx context.Context) error { _, err := a.GetUser(ctx, n); return err }},
			conformance.BadCase{What: fmt.Sprintf("GetGroup(%q)", n), Call: func(ctx context.Context) error { _, err := a.GetGroup(ctx, n); return err }})
		if n != "" {
			cases = append(cases, conformance.BadCase{What: fmt.Sprintf("ListUsers(%q)", n),
				Call: func(ctx context.Context) error { _, err := a.ListUsers(ctx, n); return err }})
		}
		if !env.Destructive {
			continue
		}
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("CreateUser(%q)", n), Call: func(ctx context.Context) error {
				_, err := a.CreateUser(ctx, accounts.UserSpec{Name: n})
				return err
			}},
			conformance.BadCase{What: fmt.Sprintf("DeleteUser(%q)", n), Call: func(ctx context.Context) error {
				return a.DeleteUser(ctx, n, accounts.DeleteOptions{})
			}},
			conformance.BadCase{What: fmt.Sprintf("LockUser(%q)", n), Call: func(ctx context.Context) error { return a.LockUser(ctx, n, "") }},
			conformance.BadCase{What: fmt.Sprintf("CreateGroup(%q)", n), Call: func(ctx context.Context) error {
				_, err := a.CreateGroup(ctx, n, 0)
				return err
			}})
	}
	return env.ExpectInvalid(ctx, cases)
}

// idempotency creates, locks, unlocks and deletes a throwaway account
// twice each. Its home lies in the check's directory, beneath the sandbox
// policy's home root (an accounts plugin refuses a home outside the
// policy's roots); nothing is made there (CreateHome is false).
func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	if !env.Destructive {
		return conformance.Skip("creates a real account: run with Options.Destructive (--destructive)")
	}
	a := impl.(accounts.Accounts)
	s := env.Steps(ctx)
	name := "ptest-" + conformance.RandomSuffix()
	spec := accounts.UserSpec{Name: name, Shell: "/bin/sh", Home: filepath.Join(env.Dir, name), GECOS: "plugintest"}
	var first accounts.User
	s.Do("CreateUser", func(ctx context.Context) (err error) { first, err = a.CreateUser(ctx, spec); return err })
	s.Do("CreateUser again", func(ctx context.Context) error {
		again, err := a.CreateUser(ctx, spec)
		if err == nil && again.UID != first.UID {
			err = fmt.Errorf("uid %d, first create gave %d", again.UID, first.UID)
		}
		return err
	})
	s.Do("LockUser twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return a.LockUser(ctx, name, "") })
	})
	s.Do("GetUser locked", func(ctx context.Context) error {
		u, err := a.GetUser(ctx, name)
		if err == nil && !u.Locked {
			err = errors.New("user not locked after LockUser")
		}
		return err
	})
	s.Do("UnlockUser twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return a.UnlockUser(ctx, name, "") })
	})
	s.Do("DeleteUser twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return a.DeleteUser(ctx, name, accounts.DeleteOptions{}) })
	})
	s.Do("GetUser after delete", func(ctx context.Context) error {
		_, err := a.GetUser(ctx, name)
		return conformance.WantNotFound(err)
	})
	s.Do("DeleteGroup of the user's group", func(ctx context.Context) error { return a.DeleteGroup(ctx, name) })
	return s.Verdict()
}
