// Package sshkeystest holds the conformance checks of the sshkeys concern,
// which the kit (sdk/plugintest) runs against every sshkeys plugin: bad
// users, paths, keys and fingerprints refused, keys and keypairs
// idempotent and read back, nothing done outside the policy's roots, and
// the host-level lifecycle: a user created, read back, deleted, rolled
// back and re-created leaves nothing behind and inherits no key.
package sshkeystest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Checks are the sshkeys concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
	{Name: "fence", Run: fence},
	{Name: "lifecycle", Run: life},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	_, err := impl.(sshkeys.SSHKeys).ListAuthorizedKeys(ctx, lifecycle.User{})
	return err
}

// badKeys are not public key lines.
func badKeys() []string {
	edBlob := base64.StdEncoding.EncodeToString(append([]byte{0, 0, 0, 11}, "ssh-ed25519"...))
	return []string{"", "not a key", "ssh-ed25519", "ssh-ed25519 AAAA!!!!", "ssh-rsa " + edBlob,
		sshkeys.FakePublicKey("x") + "\n" + sshkeys.FakePublicKey("injected")}
}

func invalidInput(ctx context.Context, env *conformance.Env, impl any) error {
	k := impl.(sshkeys.SSHKeys)
	scratch, err := env.InvalidDir()
	if err != nil {
		return err
	}
	good := env.User(scratch)
	var cases []conformance.BadCase
	for _, n := range conformance.BadNames {
		u := good
		u.Name = n
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("ListAuthorizedKeys(user %q)", n), Call: func(ctx context.Context) error {
				_, err := k.ListAuthorizedKeys(ctx, u)
				return err
			}},
			conformance.BadCase{What: fmt.Sprintf("Forget(user %q)", n), Call: func(ctx context.Context) error {
				_, err := k.Forget(ctx, u)
				return err
			}})
	}
	for _, p := range conformance.BadPaths(scratch) {
		u := good
		u.Home = p
		if p != "" {
			cases = append(cases, conformance.BadCase{What: fmt.Sprintf("ListAuthorizedKeys(home %q)", p), Call: func(ctx context.Context) error {
				_, err := k.ListAuthorizedKeys(ctx, u)
				return err
			}})
		}
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("AddAuthorizedKeys(home %q)", p), Call: func(ctx context.Context) error {
				_, err := k.AddAuthorizedKeys(ctx, u, []string{sshkeys.FakePublicKey("ptest")})
				return err
			}},
			conformance.BadCase{What: fmt.Sprintf("GenerateKeypair(dir %q)", p), Call: func(ctx context.Context) error {
				_, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: u, Dir: p})
				return err
			}})
	}
	for i, key := range badKeys() {
		cases = append(cases, conformance.BadCase{What: fmt.Sprintf("AddAuthorizedKeys(bad key %d %q)", i+1, conformance.Abbrev(key, 24)),
			Call: func(ctx context.Context) error {
				_, err := k.AddAuthorizedKeys(ctx, good, []string{key})
				return err
			}})
	}
	for _, fp := range []string{"", "MD5:aa:bb", "SHA256:short", "SHA256:../../etc/passwd"} {
		cases = append(cases, conformance.BadCase{What: fmt.Sprintf("RemoveAuthorizedKey(%q)", fp), Call: func(ctx context.Context) error {
			_, err := k.RemoveAuthorizedKey(ctx, good, fp)
			return err
		}})
	}
	return env.ExpectInvalid(ctx, cases)
}

func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	k := impl.(sshkeys.SSHKeys)
	s := env.Steps(ctx)
	u := env.User(env.Dir)
	if err := os.Mkdir(u.Home, 0o755); err != nil {
		return err
	}
	k1, k2 := sshkeys.FakePublicKey("ptest-1"), sshkeys.FakePublicKey("ptest-2")
	p1, _ := sshkeys.ParseAuthorizedKey(k1)
	// A plugin keeping keys by user name (not in the home) starts with
	// nothing of the same user from earlier checks.
	s.Do("Forget first", func(ctx context.Context) error { _, err := k.Forget(ctx, u); return err })
	s.Do("AddAuthorizedKeys", func(ctx context.Context) error { return added(k.AddAuthorizedKeys(ctx, u, []string{k1, k2}))(2) })
	s.Do("AddAuthorizedKeys again", func(ctx context.Context) error { return added(k.AddAuthorizedKeys(ctx, u, []string{k2, k1}))(0) })
	s.Do("ListAuthorizedKeys", func(ctx context.Context) error {
		keys, err := k.ListAuthorizedKeys(ctx, u)
		if err == nil && (len(keys) != 2 || !slices.ContainsFunc(keys, func(a sshkeys.AuthorizedKey) bool { return a.Fingerprint == p1.Fingerprint })) {
			err = fmt.Errorf("listed %d keys, want 2 including %s", len(keys), p1.Fingerprint)
		}
		return err
	})
	s.Do("RemoveAuthorizedKey", func(ctx context.Context) error {
		return conformance.Count(k.RemoveAuthorizedKey(ctx, u, p1.Fingerprint))(1)
	})
	s.Do("RemoveAuthorizedKey again", func(ctx context.Context) error {
		return conformance.Count(k.RemoveAuthorizedKey(ctx, u, p1.Fingerprint))(0)
	})
	spec := sshkeys.KeypairSpec{User: u, Comment: "ptest"}
	var first sshkeys.Keypair
	s.Do("GenerateKeypair", func(ctx context.Context) (err error) { first, err = k.GenerateKeypair(ctx, spec); return err })
	s.Do("GenerateKeypair again keeps the key", func(ctx context.Context) error {
		again, err := k.GenerateKeypair(ctx, spec)
		if err == nil && again.Fingerprint != first.Fingerprint {
			err = errors.New("a second GenerateKeypair without Overwrite replaced the key")
		}
		return err
	})
	s.Do("generated public key parses", func(context.Context) error {
		p, err := sshkeys.ParseAuthorizedKey(first.PublicKey)
		if err == nil && p.Fingerprint != first.Fingerprint {
			err = fmt.Errorf("fingerprint %s, key says %s", first.Fingerprint, p.Fingerprint)
		}
		return err
	})
	s.Do("Forget twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { _, err := k.Forget(ctx, u); return err })
	})
	return s.Verdict()
}

// added checks AddAuthorizedKeys' count.
func added(a sshkeys.Added, err error) func(want int) error {
	return conformance.Count(a.Added, err)
}

func fence(ctx context.Context, env *conformance.Env, impl any) error {
	k := impl.(sshkeys.SSHKeys)
	return env.Fence(ctx, func(outside string) []conformance.BadCase {
		u := env.User(outside)
		return []conformance.BadCase{
			{What: "AddAuthorizedKeys for a home outside", Call: func(ctx context.Context) error {
				_, err := k.AddAuthorizedKeys(ctx, u, []string{sshkeys.FakePublicKey("ptest-fence")})
				return err
			}},
			{What: "GenerateKeypair in a directory outside", Call: func(ctx context.Context) error {
				_, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: u, Dir: filepath.Join(outside, "keys")})
				return err
			}},
		}
	})
}
