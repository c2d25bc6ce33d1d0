// Package acltest holds the conformance checks of the acl concern, which
// the kit (sdk/plugintest) runs against every acl plugin: bad paths,
// entries and modes refused, ownership and grants idempotent and read
// back, and nothing done outside the policy's roots.
package acltest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Checks are the acl concern's conformance checks.
var Checks = []conformance.Check{
	{Name: "invalid-input", Run: invalidInput},
	{Name: "idempotency", Run: idempotency},
	{Name: "lifecycle", Run: life},
	{Name: "fence", Run: fence},
}

// Probe is a harmless call with bad input.
func Probe(ctx context.Context, impl any) error {
	_, err := impl.(acl.ACL).Get(ctx, "")
	return err
}

func invalidInput(ctx context.Context, env *conformance.Env, impl any) error {
	a := impl.(acl.ACL)
	scratch, err := env.InvalidDir()
	if err != nil {
		return err
	}
	o := env.Owner
	var cases []conformance.BadCase
	for _, p := range conformance.BadPaths(scratch) {
		cases = append(cases,
			conformance.BadCase{What: fmt.Sprintf("Get(%q)", p), Call: func(ctx context.Context) error { _, err := a.Get(ctx, p); return err }},
			conformance.BadCase{What: fmt.Sprintf("SetOwnership(%q)", p), Call: func(ctx context.Context) error {
				return a.SetOwnership(ctx, p, o.UID, o.GID, 0o644)
			}})
	}
	file := filepath.Join(scratch, "acl-target")
	entries := map[string]acl.Entry{
		"unknown tag":            {Tag: "bogus", Perms: "r"},
		"user without name":      {Tag: acl.TagUser, Perms: "r"},
		"qualifier -rf":          {Tag: acl.TagUser, Qualifier: "-rf", Perms: "r"},
		"qualifier on other":     {Tag: acl.TagOther, Qualifier: "x", Perms: "r"},
		"perms rwz":              {Tag: acl.TagOther, Perms: "rwz"},
		"perms rwxr":             {Tag: acl.TagOther, Perms: "rwxr"},
		"qualifier with comma":   {Tag: acl.TagGroup, Qualifier: "a,b", Perms: "r"},
		"qualifier with colon":   {Tag: acl.TagGroup, Qualifier: "a:b", Perms: "r"},
		"qualifier with newline": {Tag: acl.TagUser, Qualifier: "a\nb", Perms: "r"},
	}
	for what, e := range entries {
		cases = append(cases, conformance.BadCase{What: "Grant(" + what + ")", Call: func(ctx context.Context) error {
			return a.Grant(ctx, file, []acl.Entry{e}, false)
		}})
	}
	cases = append(cases,
		conformance.BadCase{What: "Grant(no entries)", Call: func(ctx context.Context) error { return a.Grant(ctx, file, nil, false) }},
		conformance.BadCase{What: "SetOwnership(mode 0170000)", Call: func(ctx context.Context) error {
			return a.SetOwnership(ctx, file, o.UID, o.GID, 0o170000)
		}})
	return env.ExpectInvalid(ctx, cases)
}

func idempotency(ctx context.Context, env *conformance.Env, impl any) error {
	a, o := impl.(acl.ACL), env.Owner
	s := env.Steps(ctx)
	file := filepath.Join(env.Dir, "target")
	if err := os.WriteFile(file, []byte("x"), 0o640); err != nil {
		return err
	}
	s.Do("SetOwnership twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return a.SetOwnership(ctx, file, o.UID, o.GID, 0o640) })
	})
	entry := acl.Entry{Tag: acl.TagUser, Qualifier: strconv.FormatUint(uint64(o.UID), 10), Perms: "r"}
	s.Do("Grant twice", func(ctx context.Context) error {
		err := conformance.Twice(func() error { return a.Grant(ctx, file, []acl.Entry{entry}, false) })
		if sdkerr.Is(err, sdkerr.FailedPrecondition) || sdkerr.Is(err, sdkerr.Unimplemented) {
			// a mode-bits plugin has no named entries: use "other"
			entry = acl.Entry{Tag: acl.TagOther, Perms: "r"}
			err = conformance.Twice(func() error { return a.Grant(ctx, file, []acl.Entry{entry}, false) })
		}
		return err
	})
	s.Do("Get shows the grant", func(ctx context.Context) error {
		l, err := a.Get(ctx, file)
		if err == nil && !hasEntry(l.Access, entry, o.Name) {
			err = fmt.Errorf("access entries %v lack %v", l.Access, entry)
		}
		return err
	})
	if entry.Tag != acl.TagUser {
		return s.Verdict() // revoking "other" is not meaningful
	}
	s.Do("Revoke twice", func(ctx context.Context) error {
		return conformance.Twice(func() error { return a.Revoke(ctx, file, []acl.Entry{entry}) })
	})
	s.Do("Get after revoke", func(ctx context.Context) error {
		l, err := a.Get(ctx, file)
		if err == nil && hasEntry(l.Access, entry, o.Name) {
			err = fmt.Errorf("entry %v still there after Revoke", entry)
		}
		return err
	})
	return s.Verdict()
}

// hasEntry reports whether list holds e; a plugin may report the owner's
// name instead of the numeric id it was given.
func hasEntry(list []acl.Entry, e acl.Entry, name string) bool {
	return slices.ContainsFunc(list, func(o acl.Entry) bool {
		return o.Tag == e.Tag && o.Default == e.Default && acl.NormalizePerms(o.Perms) == acl.NormalizePerms(e.Perms) &&
			(o.Qualifier == e.Qualifier || e.Tag != acl.TagUser || name != "" && o.Qualifier == name)
	})
}

func fence(ctx context.Context, env *conformance.Env, impl any) error {
	a, o := impl.(acl.ACL), env.Owner
	return env.Fence(ctx, func(outside string) []conformance.BadCase {
		target := filepath.Join(outside, "target")
		return []conformance.BadCase{
			{What: "Grant outside", Call: func(ctx context.Context) error {
				return a.Grant(ctx, target, []acl.Entry{{Tag: acl.TagOther, Perms: "rw"}}, false)
			}},
			{What: "Grant recursive on a directory outside", Call: func(ctx context.Context) error {
				return a.Grant(ctx, outside, []acl.Entry{{Tag: acl.TagOther, Perms: "rwx"}}, true)
			}},
			{What: "SetOwnership outside", Call: func(ctx context.Context) error { return a.SetOwnership(ctx, target, o.UID, o.GID, 0o666) }},
		}
	})
}
