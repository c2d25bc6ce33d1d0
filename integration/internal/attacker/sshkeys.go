package main

import (
	"context"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// attackerKey is the public key an attacker would plant.
var attackerKey = sshkeys.FakePublicKey("attacker")

// keysUser names an account as the sshkeys contract does: the name is the
// home's last element (the layout's), or root.
func keysUser(home string, uid, gid uint32) lifecycle.User {
	name := filepath.Base(home)
	if home == "/root" {
		name = "root"
	}
	return lifecycle.User{Name: name, UID: uid, GID: gid, Home: home}
}

func init() {
	k := func(impl any) sshkeys.SSHKeys { return impl.(sshkeys.SSHKeys) }
	add := func(home func(*Scene) string, uid, gid func(*Scene) uint32) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, s *Scene) error {
			_, err := k(impl).AddAuthorizedKeys(ctx, keysUser(home(s), uid(s), gid(s)), []string{attackerKey})
			return err
		}
	}
	rootHome := func(*Scene) string { return "/root" }
	zero := func(*Scene) uint32 { return 0 }
	cases["sshkeys"] = []attack{
		{"AddAuthorizedKeys into /root/.ssh as root", add(rootHome, zero, zero)},
		{"AddAuthorizedKeys into /root/.ssh as a managed user", add(rootHome, func(s *Scene) uint32 { return s.UID }, func(s *Scene) uint32 { return s.GID })},
		{"AddAuthorizedKeys through ~/.ssh -> /etc", add(func(s *Scene) string { return s.Linked },
			func(s *Scene) uint32 { return s.LinkedUID }, func(s *Scene) uint32 { return s.LinkedGID })},
		{"AddAuthorizedKeys for root in a home", add(func(s *Scene) string { return s.Home }, zero, zero)},
		{"AddAuthorizedKeys for an unmanaged account", add(func(s *Scene) string { return s.Home },
			func(s *Scene) uint32 { return s.UnmanagedUID }, func(s *Scene) uint32 { return s.UnmanagedGID })},
		{"GenerateKeypair into /etc/ssh", func(ctx context.Context, impl any, s *Scene) error {
			_, err := k(impl).GenerateKeypair(ctx, sshkeys.KeypairSpec{User: keysUser(s.Home, s.UID, s.GID), Dir: "/etc/ssh"})
			return err
		}},
		{"GenerateKeypair into /root/.ssh", func(ctx context.Context, impl any, s *Scene) error {
			_, err := k(impl).GenerateKeypair(ctx, sshkeys.KeypairSpec{User: keysUser("/root", 0, 0), Dir: "/root/.ssh"})
			return err
		}},
		{"GenerateKeypair through ~/.ssh -> /etc", func(ctx context.Context, impl any, s *Scene) error {
			_, err := k(impl).GenerateKeypair(ctx, sshkeys.KeypairSpec{User: keysUser(s.Linked, s.LinkedUID, s.LinkedGID), Dir: filepath.Join(s.Linked, ".ssh")})
			return err
		}},
		{"ListAuthorizedKeys of /root", func(ctx context.Context, impl any, s *Scene) error {
			_, err := k(impl).ListAuthorizedKeys(ctx, keysUser("/root", 0, 0))
			return err
		}},
		{"Forget of root", func(ctx context.Context, impl any, s *Scene) error {
			_, err := k(impl).Forget(ctx, keysUser("/root", 0, 0))
			return err
		}},
	}
}
