package main

import (
	"context"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// The accounts attacks: a driver turned hostile trying to make or take an
// account that is root in effect — uid 0 or a system uid, a member of
// sudo or root, a home over /root or /etc — or to delete, lock, regroup or
// adopt an account hero_codescalers does not manage. The accounts plugin
// must refuse each on its own, whatever the host would have checked.
func init() {
	a := func(impl any) accounts.Accounts { return impl.(accounts.Accounts) }
	create := func(spec func(*Scene) accounts.UserSpec) func(context.Context, any, *Scene) error {
		return func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).CreateUser(ctx, spec(s))
			return err
		}
	}
	// newUser is a spec the policy would admit; each attack bends one field.
	newUser := func(s *Scene, edit func(*accounts.UserSpec)) accounts.UserSpec {
		spec := accounts.UserSpec{Name: "hcatknew", Shell: "/bin/sh", Home: filepath.Join(s.HomeRoot, "hcatknew"), MarkerGroup: s.Marker}
		edit(&spec)
		return spec
	}
	cases["accounts"] = []attack{
		{"CreateUser with uid 0", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.UID = 0; u.Name = "hcatktoor"; u.PrimaryGroup = "root" })
		})},
		{"CreateUser with a system uid", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.UID = 5 })
		})},
		{"CreateUser with an unmanaged account's uid", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.UID = s.UnmanagedUID })
		})},
		{"CreateUser in group sudo", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.Groups = []string{"sudo"} })
		})},
		{"CreateUser with primary group root", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.PrimaryGroup = "root" })
		})},
		{"CreateUser with sudo as the marker group", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.MarkerGroup = "sudo" })
		})},
		{"CreateUser with home /root", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.Home = "/root"; u.CreateHome = true })
		})},
		{"CreateUser with home /etc/hcatk made", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.Home = "/etc/hcatk"; u.CreateHome = true })
		})},
		{"CreateUser with home ROOT/../etc/hcatk", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.Home = s.HomeRoot + "/../etc/hcatk"; u.CreateHome = true })
		})},
		{"CreateUser with home the home root itself", create(func(s *Scene) accounts.UserSpec {
			return newUser(s, func(u *accounts.UserSpec) { u.Home = s.HomeRoot })
		})},
		{"CreateUsers of a uid-0 account", func(ctx context.Context, impl any, s *Scene) error {
			res, err := a(impl).CreateUsers(ctx, []accounts.UserSpec{newUser(s, func(u *accounts.UserSpec) { u.Name = "hcatktoor"; u.PrimaryGroup = "root" })})
			return batchErr(res, err)
		}},
		{"CreateUsers into group sudo", func(ctx context.Context, impl any, s *Scene) error {
			res, err := a(impl).CreateUsers(ctx, []accounts.UserSpec{newUser(s, func(u *accounts.UserSpec) { u.Groups = []string{"sudo"} })})
			return batchErr(res, err)
		}},
		{"DeleteUser root", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).DeleteUser(ctx, "root", accounts.DeleteOptions{})
		}},
		{"DeleteUser an unmanaged account", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).DeleteUser(ctx, s.Unmanaged, accounts.DeleteOptions{})
		}},
		{"DeleteUser the driver", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).DeleteUser(ctx, s.Driver, accounts.DeleteOptions{})
		}},
		{"LockUser root", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).LockUser(ctx, "root", s.Marker)
		}},
		{"LockUser an unmanaged account", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).LockUser(ctx, s.Unmanaged, s.Marker)
		}},
		{"UnlockUser an unmanaged account", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).UnlockUser(ctx, s.Unmanaged, s.Marker)
		}},
		{"SetUserGroups of a managed user to sudo", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).SetUserGroups(ctx, s.User, []string{"sudo"}, s.Marker)
			return err
		}},
		{"SetUserGroups of an unmanaged account into the marker", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).SetUserGroups(ctx, s.Unmanaged, []string{s.Marker}, s.Marker)
			return err
		}},
		{"SetUserGroups of root", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).SetUserGroups(ctx, "root", []string{s.Marker}, s.Marker)
			return err
		}},
		{"CreateGroup with a system gid", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).CreateGroup(ctx, "hcatkg", 27)
			return err
		}},
		{"CreateGroup with an unmanaged group's gid", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).CreateGroup(ctx, "hcatkg", s.UnmanagedGID)
			return err
		}},
		{"CreateGroup named like an existing group", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).CreateGroup(ctx, "sudo", 0)
			return err
		}},
		{"DeleteGroup sudo", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).DeleteGroup(ctx, "sudo")
		}},
		{"DeleteGroup the marker", func(ctx context.Context, impl any, s *Scene) error {
			return a(impl).DeleteGroup(ctx, s.Marker)
		}},
		{"SetGroupMembers of sudo", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).SetGroupMembers(ctx, "sudo", []string{s.User})
			return err
		}},
		{"SetGroupMembers of the marker with an unmanaged account", func(ctx context.Context, impl any, s *Scene) error {
			_, err := a(impl).SetGroupMembers(ctx, s.Marker, []string{s.User, s.Unmanaged})
			return err
		}},
	}
}

// batchErr is a batch's refusal: the call's, or its one row's.
func batchErr(res []accounts.BatchResult, err error) error {
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}
