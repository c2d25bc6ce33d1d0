package main

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
)

func init() {
	a := func(impl any) acl.ACL { return impl.(acl.ACL) }
	grant := func(path func(*Scene) string, e func(*Scene) acl.Entry, recursive bool) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).Grant(ctx, path(s), []acl.Entry{e(s)}, recursive)
		}
	}
	fixed := func(p string) func(*Scene) string { return func(*Scene) string { return p } }
	driver := func(perms string) func(*Scene) acl.Entry {
		return func(s *Scene) acl.Entry { return acl.Entry{Tag: acl.TagUser, Qualifier: s.Driver, Perms: perms} }
	}
	chown := func(path func(*Scene) string, uid, gid func(*Scene) uint32, mode uint32) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).SetOwnership(ctx, path(s), uid(s), gid(s), mode)
		}
	}
	zero := func(*Scene) uint32 { return 0 }
	uid := func(s *Scene) uint32 { return s.UID }
	gid := func(s *Scene) uint32 { return s.GID }
	file := func(s *Scene) string { return s.File }
	cases["acl"] = []attack{
		{"Grant the driver read on /etc/shadow", grant(fixed("/etc/shadow"), driver("r"), false)},
		{"Grant the driver rwx on /etc/sudoers.d", grant(fixed("/etc/sudoers.d"), driver("rwx"), false)},
		{"Grant other write on a file outside", grant(func(s *Scene) string { return s.DecoyFile },
			func(*Scene) acl.Entry { return acl.Entry{Tag: acl.TagOther, Perms: "rw"} }, false)},
		{"Grant an unmanaged user rwx in a home", grant(file, func(s *Scene) acl.Entry {
			return acl.Entry{Tag: acl.TagUser, Qualifier: s.Unmanaged, Perms: "rwx"}
		}, false)},
		{"Grant root's group rwx in a home", grant(file, func(*Scene) acl.Entry {
			return acl.Entry{Tag: acl.TagGroup, Qualifier: "root", Perms: "rwx"}
		}, false)},
		{"Grant the user read on a hard link to a root-only file", grant(func(s *Scene) string { return s.HardLink },
			func(s *Scene) acl.Entry { return acl.Entry{Tag: acl.TagUser, Qualifier: s.Driver, Perms: "r"} }, false)},
		{"SetOwnership setuid root of a file in a home", chown(file, zero, zero, 0o4755)},
		{"SetOwnership setuid of the user's file", chown(file, uid, gid, 0o4755)},
		{"SetOwnership root-owned file in a home", chown(file, zero, gid, 0o755)},
		{"SetOwnership of a file of an unmanaged account", chown(file, func(s *Scene) uint32 { return s.UnmanagedUID },
			func(s *Scene) uint32 { return s.UnmanagedGID }, 0o644)},
		{"SetOwnership the hard link to a root-only file to the user", chown(func(s *Scene) string { return s.HardLink }, uid, gid, 0o644)},
		{"SetOwnership chmod 0666 of /etc/shadow", chown(fixed("/etc/shadow"), uid, gid, 0o666)},
		{"SetOwnership of a file outside", chown(func(s *Scene) string { return s.DecoyFile }, uid, gid, 0o666)},
	}
}
