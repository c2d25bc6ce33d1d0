// Package sshkeystest holds the conformance checks of the sshkeys concern,
// which the kit (sdk/plugintest) runs against every sshkeys plugin: bad
// paths, keys and fingerprints refused, keys and keypairs idempotent and
// read back, and nothing done outside the policy's roots.
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
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Checks are the sshkeys concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
	{Name: "fence", Run: fence},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	_, err := impl.(sshkeys.SSHKeys).ListAuthorizedKeys(ctx, "")
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
	o := env.Owner
	var cases []conformance.BadCase
	for _, p := range conformance.BadPaths(scratch) {
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("ListAuthorizedKeys(%q)", p), Call: func(ctx context.Context) error {
				_, err := k.ListAuthorizedKeys(ctx, p)
				return err
			}},
			conformance.BadCase{What: fmt.Sprintf("GenerateKeypair(%q)", p), Call: func(ctx context.Context) error {
				_, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{Dir: p, UID: o.UID, GID: o.GID})
				return err
			}})
	}
	home := filepath.Join(scratch, "home")
	for i, key := range badKeys() {
		cases = append(cases, conformance.BadCase{What: fmt.Sprintf("AddAuthorizedKeys(bad key %d %q)", i+1, conformance.Abbrev(key, 24)),
			Call: func(ctx context.Context) error {
				_, err := k.AddAuthorizedKeys(ctx, home, o.UID, o.GID, []string{key})
				return err
			}})
	}
	for _, fp := range []string{"", "MD5:aa:bb", "SHA256:short", "SHA256:../../etc/passwd"} {
		cases = append(cases, conformance.BadCase{What: fmt.Sprintf("RemoveAuthorizedKey(%q)", fp), Call: func(ctx context.Context) error {
			_, err := k.RemoveAuthorizedKey(ctx, home, fp)
			return err
		}})
	}
	return env.ExpectInvalid(ctx, cases)
}

func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	k, o := impl.(sshkeys.SSHKeys), env.Owner
	s := env.Steps(ctx)
	home := filepath.Join(env.Dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return err
	}
	k1, k2 := sshkeys.FakePublicKey("ptest-1"), sshkeys.FakePublicKey("ptest-2")
	p1, _ := sshkeys.ParseAuthorizedKey(k1)
	s.Do("AddAuthorizedKeys", func(ctx context.Context) error {
		return conformance.Count(k.AddAuthorizedKeys(ctx, home, o.UID, o.GID, []string{k1, k2}))(2)
	})
	s.Do("AddAuthorizedKeys again", func(ctx context.Context) error {
		return conformance.Count(k.AddAuthorizedKeys(ctx, home, o.UID, o.GID, []string{k2, k1}))(0)
	})
	s.Do("ListAuthorizedKeys", func(ctx context.Context) error {
		keys, err := k.ListAuthorizedKeys(ctx, home)
		if err == nil && (len(keys) != 2 || !slices.ContainsFunc(keys, func(a sshkeys.AuthorizedKey) bool { return a.Fingerprint == p1.Fingerprint })) {
			err = fmt.Errorf("listed %d keys, want 2 including %s", len(keys), p1.Fingerprint)
		}
		return err
	})
	s.Do("RemoveAuthorizedKey", func(ctx context.Context) error {
		return conformance.Count(k.RemoveAuthorizedKey(ctx, home, p1.Fingerprint))(1)
	})
	s.Do("RemoveAuthorizedKey again", func(ctx context.Context) error {
		return conformance.Count(k.RemoveAuthorizedKey(ctx, home, p1.Fingerprint))(0)
	})
	spec := sshkeys.KeypairSpec{Dir: filepath.Join(home, ".ssh"), UID: o.UID, GID: o.GID, Comment: "ptest"}
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
	return s.Verdict()
}

func fence(ctx context.Context, env *conformance.Env, impl any) error {
	k, o := impl.(sshkeys.SSHKeys), env.Owner
	return env.Fence(ctx, func(outside string) []conformance.BadCase {
		home := filepath.Join(outside, "home")
		return []conformance.BadCase{
			{What: "AddAuthorizedKeys under a directory outside", Call: func(ctx context.Context) error {
				_, err := k.AddAuthorizedKeys(ctx, home, o.UID, o.GID, []string{sshkeys.FakePublicKey("ptest-fence")})
				return err
			}},
			{What: "GenerateKeypair in a directory outside", Call: func(ctx context.Context) error {
				_, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{Dir: filepath.Join(outside, "keys"), UID: o.UID, GID: o.GID})
				return err
			}},
		}
	})
}
