package plugintest

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// badVolumes: bad paths for every path-taking call, and bad modes. A
// plugin that wrongly accepts one acts inside the scratch directory (its
// working directory there too), never elsewhere.
func badVolumes(v volumes.Volumes, scratch string, o owner) []badCase {
	owner := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o755}
	var cases []badCase
	for _, p := range badPaths(scratch) {
		cases = append(cases,
			badCase{fmt.Sprintf("GetUsage(%q)", p), func(ctx context.Context) error { _, err := v.GetUsage(ctx, p); return err }},
			badCase{fmt.Sprintf("ListSnapshots(%q)", p), func(ctx context.Context) error { _, err := v.ListSnapshots(ctx, p); return err }},
			badCase{fmt.Sprintf("CreateVolume(%q)", p), func(ctx context.Context) error {
				_, err := v.CreateVolume(ctx, volumes.VolumeSpec{Path: p, Owner: owner})
				return err
			}},
			badCase{fmt.Sprintf("WriteFile(%q)", p), func(ctx context.Context) error {
				return v.WriteFile(ctx, p, []byte("x"), volumes.Owner{UID: owner.UID, GID: owner.GID, Mode: 0o600})
			}},
			badCase{fmt.Sprintf("EnsureDir(%q)", p), func(ctx context.Context) error { return v.EnsureDir(ctx, p, owner) }},
			badCase{fmt.Sprintf("Sync(%q)", p), func(ctx context.Context) error { return v.Sync(ctx, []string{scratch, p}) }})
	}
	good := filepath.Join(scratch, "mode")
	cases = append(cases, badCase{"EnsureDir(mode 010000)", func(ctx context.Context) error {
		return v.EnsureDir(ctx, good, volumes.Owner{UID: owner.UID, GID: owner.GID, Mode: 0o10000})
	}}, badCase{"Snapshot(dest relative)", func(ctx context.Context) error {
		_, err := v.Snapshot(ctx, volumes.SnapshotSpec{Source: good, Dest: "snap"})
		return err
	}}, badCase{fmt.Sprintf("Sync(%d paths)", volumes.MaxSyncPaths+1), func(ctx context.Context) error {
		return v.Sync(ctx, slices.Repeat([]string{scratch}, volumes.MaxSyncPaths+1))
	}})
	return cases
}

func badACL(a acl.ACL, scratch string, o owner) []badCase {
	var cases []badCase
	for _, p := range badPaths(scratch) {
		cases = append(cases,
			badCase{fmt.Sprintf("Get(%q)", p), func(ctx context.Context) error { _, err := a.Get(ctx, p); return err }},
			badCase{fmt.Sprintf("SetOwnership(%q)", p), func(ctx context.Context) error {
				return a.SetOwnership(ctx, p, o.uid, o.gid, 0o644)
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
		cases = append(cases, badCase{"Grant(" + what + ")", func(ctx context.Context) error {
			return a.Grant(ctx, file, []acl.Entry{e}, false)
		}})
	}
	cases = append(cases,
		badCase{"Grant(no entries)", func(ctx context.Context) error { return a.Grant(ctx, file, nil, false) }},
		badCase{"SetOwnership(mode 0170000)", func(ctx context.Context) error {
			return a.SetOwnership(ctx, file, o.uid, o.gid, 0o170000)
		}})
	return cases
}

func badSSHKeys(s sshkeys.SSHKeys, scratch string, o owner) []badCase {
	var cases []badCase
	for _, p := range badPaths(scratch) {
		cases = append(cases,
			badCase{fmt.Sprintf("ListAuthorizedKeys(%q)", p), func(ctx context.Context) error {
				_, err := s.ListAuthorizedKeys(ctx, p)
				return err
			}},
			badCase{fmt.Sprintf("GenerateKeypair(%q)", p), func(ctx context.Context) error {
				_, err := s.GenerateKeypair(ctx, sshkeys.KeypairSpec{Dir: p, UID: o.uid, GID: o.gid})
				return err
			}})
	}
	home := filepath.Join(scratch, "home")
	for i, key := range badKeys() {
		cases = append(cases, badCase{fmt.Sprintf("AddAuthorizedKeys(bad key %d %q)", i+1, abbrev(key)),
			func(ctx context.Context) error {
				_, err := s.AddAuthorizedKeys(ctx, home, o.uid, o.gid, []string{key})
				return err
			}})
	}
	for _, fp := range []string{"", "MD5:aa:bb", "SHA256:short", "SHA256:../../etc/passwd"} {
		cases = append(cases, badCase{fmt.Sprintf("RemoveAuthorizedKey(%q)", fp), func(ctx context.Context) error {
			_, err := s.RemoveAuthorizedKey(ctx, home, fp)
			return err
		}})
	}
	return cases
}

func badSessions(s sessions.Sessions) []badCase {
	var cases []badCase
	for _, n := range badNames {
		cases = append(cases,
			badCase{fmt.Sprintf("KillUserSessions(%q)", n), func(ctx context.Context) error {
				_, err := s.KillUserSessions(ctx, n, 0)
				return err
			}},
			badCase{fmt.Sprintf("KillUser(%q)", n), func(ctx context.Context) error {
				_, err := s.KillUser(ctx, n, 0)
				return err
			}},
		)
		if n != "" {
			cases = append(cases, badCase{fmt.Sprintf("ListSessions(%q)", n), func(ctx context.Context) error {
				_, err := s.ListSessions(ctx, n)
				return err
			}})
		}
	}
	for _, id := range badIDs {
		cases = append(cases, badCase{fmt.Sprintf("KillSession(%q)", abbrev(id)),
			func(ctx context.Context) error { return s.KillSession(ctx, id, 0) }})
	}
	return cases
}

func abbrev(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
