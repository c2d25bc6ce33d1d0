package main

import (
	"context"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// sudoersLine is what an attacker would put into /etc/sudoers.d: the
// driver may then run anything as root.
func sudoersLine(s *Scene) []byte { return []byte(s.Driver + " ALL=(ALL) NOPASSWD: ALL\n") }

func init() {
	v := func(impl any) volumes.Volumes { return impl.(volumes.Volumes) }
	write := func(path string, data func(*Scene) []byte, own func(*Scene) volumes.Owner) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, s *Scene) error {
			return v(impl).WriteFile(ctx, expand(path, s), data(s), own(s))
		}
	}
	root := func(mode uint32) func(*Scene) volumes.Owner {
		return func(*Scene) volumes.Owner { return volumes.Owner{Mode: mode} }
	}
	user := func(mode uint32) func(*Scene) volumes.Owner {
		return func(s *Scene) volumes.Owner { return volumes.Owner{UID: s.UID, GID: s.GID, Mode: mode} }
	}
	text := func(*Scene) []byte { return []byte("#!/bin/sh\nid\n") }
	cases["volumes"] = []attack{
		{"WriteFile /etc/sudoers.d/zz-pwn as a managed user", write("/etc/sudoers.d/zz-pwn", sudoersLine, user(0o440))},
		{"WriteFile /etc/sudoers.d/zz-pwn as root (sudo reads it: the driver is root)", write("/etc/sudoers.d/zz-pwn", sudoersLine, root(0o440))},
		{"WriteFile through ~/.ssh -> /etc", write("{linked}/.ssh/sudoers.d/zz-pwn", sudoersLine, func(s *Scene) volumes.Owner {
			return volumes.Owner{UID: s.LinkedUID, GID: s.LinkedGID, Mode: 0o440}
		})},
		{"WriteFile a setuid-root file in a home", write("{home}/suid-root", text, root(0o4755))},
		{"WriteFile a setuid file of the user", write("{home}/suid-user", text, user(0o4755))},
		{"WriteFile a setgid file", write("{home}/sgid", text, user(0o2755))},
		{"WriteFile a root-owned file in a home", write("{home}/root-owned", text, root(0o755))},
		{"WriteFile a file of an unmanaged account", write("{home}/unmanaged", text, func(s *Scene) volumes.Owner {
			return volumes.Owner{UID: s.UnmanagedUID, GID: s.UnmanagedGID, Mode: 0o755}
		})},
		{"WriteFile a file of the user with an unmanaged group", write("{home}/unmanaged-group", text, func(s *Scene) volumes.Owner {
			return volumes.Owner{UID: s.UID, GID: s.UnmanagedGID, Mode: 0o664}
		})},
		{"WriteFile a device node in a home", write("{home}/dev", text, user(0o20666))},
		{"EnsureDir chmod 0777 of a directory outside", func(ctx context.Context, impl any, s *Scene) error {
			return v(impl).EnsureDir(ctx, s.Decoy, volumes.Owner{UID: s.UID, GID: s.GID, Mode: 0o777})
		}},
		{"EnsureDir /root/.ssh", func(ctx context.Context, impl any, s *Scene) error {
			return v(impl).EnsureDir(ctx, "/root/.ssh", volumes.Owner{UID: s.UID, GID: s.GID, Mode: 0o777})
		}},
		{"EnsureDir through ~/.ssh -> /etc", func(ctx context.Context, impl any, s *Scene) error {
			return v(impl).EnsureDir(ctx, filepath.Join(s.Linked, ".ssh", "cron.d"), volumes.Owner{Mode: 0o755})
		}},
		{"EnsureDir chown the home root", func(ctx context.Context, impl any, s *Scene) error {
			return v(impl).EnsureDir(ctx, s.HomeRoot, volumes.Owner{UID: s.UID, GID: s.GID, Mode: 0o777})
		}},
		{"CreateVolume outside the home root", func(ctx context.Context, impl any, s *Scene) error {
			_, err := v(impl).CreateVolume(ctx, volumes.VolumeSpec{Path: filepath.Join(s.Decoy, "vol"), Owner: volumes.Owner{UID: s.UID, GID: s.GID, Mode: 0o777}})
			return err
		}},
		{"DeleteVolume outside the home root", func(ctx context.Context, impl any, s *Scene) error {
			return v(impl).DeleteVolume(ctx, s.Decoy)
		}},
		{"Snapshot a home into /etc", func(ctx context.Context, impl any, s *Scene) error {
			_, err := v(impl).Snapshot(ctx, volumes.SnapshotSpec{Source: s.Home, Dest: filepath.Join(s.Decoy, "snap")})
			return err
		}},
	}
}

// expand replaces {home} and {linked} with the scene's paths.
func expand(path string, s *Scene) string {
	for _, r := range [][2]string{{"{home}", s.Home}, {"{linked}", s.Linked}} {
		if len(path) >= len(r[0]) && path[:len(r[0])] == r[0] {
			return r[1] + path[len(r[0]):]
		}
	}
	return path
}
