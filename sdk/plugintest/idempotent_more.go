package plugintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

func idemACL(s *steps, raw any, dir string) {
	a, o := raw.(acl.ACL), s.k.owner
	file := filepath.Join(dir, "target")
	if err := os.WriteFile(file, []byte("x"), 0o640); err != nil {
		s.err = err
		return
	}
	s.do("SetOwnership twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return a.SetOwnership(ctx, file, o.uid, o.gid, 0o640) })
	})
	entry := acl.Entry{Tag: acl.TagUser, Qualifier: strconv.FormatUint(uint64(o.uid), 10), Perms: "r"}
	s.do("Grant twice", func(ctx context.Context) error {
		err := twice(ctx, func() error { return a.Grant(ctx, file, []acl.Entry{entry}, false) })
		if sdkerr.Is(err, sdkerr.FailedPrecondition) || sdkerr.Is(err, sdkerr.Unimplemented) {
			// a mode-bits plugin has no named entries: use "other"
			entry = acl.Entry{Tag: acl.TagOther, Perms: "r"}
			err = twice(ctx, func() error { return a.Grant(ctx, file, []acl.Entry{entry}, false) })
		}
		return err
	})
	s.do("Get shows the grant", func(ctx context.Context) error {
		l, err := a.Get(ctx, file)
		if err == nil && !hasEntry(l.Access, entry, o.name) {
			err = fmt.Errorf("access entries %v lack %v", l.Access, entry)
		}
		return err
	})
	if entry.Tag != acl.TagUser {
		return // revoking "other" is not meaningful
	}
	s.do("Revoke twice", func(ctx context.Context) error {
		return twice(ctx, func() error { return a.Revoke(ctx, file, []acl.Entry{entry}) })
	})
	s.do("Get after revoke", func(ctx context.Context) error {
		l, err := a.Get(ctx, file)
		if err == nil && hasEntry(l.Access, entry, o.name) {
			err = fmt.Errorf("entry %v still there after Revoke", entry)
		}
		return err
	})
}

// hasEntry reports whether list holds e; a plugin may report the owner's
// name instead of the numeric id it was given.
func hasEntry(list []acl.Entry, e acl.Entry, name string) bool {
	return slices.ContainsFunc(list, func(o acl.Entry) bool {
		return o.Tag == e.Tag && o.Default == e.Default && acl.NormalizePerms(o.Perms) == acl.NormalizePerms(e.Perms) &&
			(o.Qualifier == e.Qualifier || e.Tag != acl.TagUser || name != "" && o.Qualifier == name)
	})
}

func idemSSHKeys(s *steps, raw any, dir string) {
	k, o := raw.(sshkeys.SSHKeys), s.k.owner
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		s.err = err
		return
	}
	k1, k2 := sshkeys.FakePublicKey("ptest-1"), sshkeys.FakePublicKey("ptest-2")
	p1, _ := sshkeys.ParseAuthorizedKey(k1)
	s.do("AddAuthorizedKeys", func(ctx context.Context) error {
		return added(k.AddAuthorizedKeys(ctx, home, o.uid, o.gid, []string{k1, k2}))(2)
	})
	s.do("AddAuthorizedKeys again", func(ctx context.Context) error {
		return added(k.AddAuthorizedKeys(ctx, home, o.uid, o.gid, []string{k2, k1}))(0)
	})
	s.do("ListAuthorizedKeys", func(ctx context.Context) error {
		keys, err := k.ListAuthorizedKeys(ctx, home)
		if err == nil && (len(keys) != 2 || !slices.ContainsFunc(keys, func(a sshkeys.AuthorizedKey) bool { return a.Fingerprint == p1.Fingerprint })) {
			err = fmt.Errorf("listed %d keys, want 2 including %s", len(keys), p1.Fingerprint)
		}
		return err
	})
	s.do("RemoveAuthorizedKey", func(ctx context.Context) error { return added(k.RemoveAuthorizedKey(ctx, home, p1.Fingerprint))(1) })
	s.do("RemoveAuthorizedKey again", func(ctx context.Context) error { return added(k.RemoveAuthorizedKey(ctx, home, p1.Fingerprint))(0) })
	spec := sshkeys.KeypairSpec{Dir: filepath.Join(home, ".ssh"), UID: o.uid, GID: o.gid, Comment: "ptest"}
	var first sshkeys.Keypair
	s.do("GenerateKeypair", func(ctx context.Context) (err error) { first, err = k.GenerateKeypair(ctx, spec); return err })
	s.do("GenerateKeypair again keeps the key", func(ctx context.Context) error {
		again, err := k.GenerateKeypair(ctx, spec)
		if err == nil && again.Fingerprint != first.Fingerprint {
			err = errors.New("a second GenerateKeypair without Overwrite replaced the key")
		}
		return err
	})
	s.do("generated public key parses", func(context.Context) error {
		p, err := sshkeys.ParseAuthorizedKey(first.PublicKey)
		if err == nil && p.Fingerprint != first.Fingerprint {
			err = fmt.Errorf("fingerprint %s, key says %s", first.Fingerprint, p.Fingerprint)
		}
		return err
	})
}

// added checks a count returned with an error.
func added(n int, err error) func(want int) error {
	return func(want int) error {
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("count %d, want %d", n, want)
		}
		return nil
	}
}

func idemSessions(s *steps, ss sessions.Sessions) {
	s.do("ListSessions", func(ctx context.Context) error { _, err := ss.ListSessions(ctx, ""); return err })
	id := "ptest-" + randomSuffix()
	s.do("KillSession of a missing session", func(ctx context.Context) error { return ss.KillSession(ctx, id, 0) })
	s.do("KillUserSessions of a user without sessions", func(ctx context.Context) error {
		_, err := ss.KillUserSessions(ctx, id, 0)
		if sdkerr.Is(err, sdkerr.NotFound) {
			return nil
		}
		return err
	})
	// A plugin built before KillUser joined the contract answers
	// Unimplemented; the host then ends sessions only.
	s.do("KillUser of a user without an account", func(ctx context.Context) error {
		e, err := ss.KillUser(ctx, id, 0)
		switch {
		case sdkerr.Is(err, sdkerr.NotFound), sdkerr.Is(err, sdkerr.Unimplemented):
			return nil
		case err == nil && e != (sessions.Ended{}):
			return fmt.Errorf("ended %+v of a user without an account", e)
		}
		return err
	})
}
