package accountsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
)

// Routed is an accounts.Accounts whose every call runs on the
// implementation r routes it to: the host's client, which finds the live
// plugin process at each call.
func Routed(r concern.Router) accounts.Accounts { return routed{r} }

type routed struct{ r concern.Router }

var _ accounts.Accounts = routed{}

func (c routed) CreateUser(ctx context.Context, spec accounts.UserSpec) (out accounts.User, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.CreateUser(ctx, spec)
		return err
	})
	return out, err
}

func (c routed) CreateUsers(ctx context.Context, specs []accounts.UserSpec) (out []accounts.BatchResult, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.CreateUsers(ctx, specs)
		return err
	})
	return out, err
}

func (c routed) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) error {
		return p.DeleteUser(ctx, name, opts)
	})
}

func (c routed) GetUser(ctx context.Context, name string) (out accounts.User, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.GetUser(ctx, name)
		return err
	})
	return out, err
}

func (c routed) ListUsers(ctx context.Context, group string) (out []accounts.User, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.ListUsers(ctx, group)
		return err
	})
	return out, err
}

func (c routed) LockUser(ctx context.Context, name, markerGroup string) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) error {
		return p.LockUser(ctx, name, markerGroup)
	})
}

func (c routed) UnlockUser(ctx context.Context, name, markerGroup string) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) error {
		return p.UnlockUser(ctx, name, markerGroup)
	})
}

func (c routed) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (out accounts.User, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.SetUserGroups(ctx, name, groups, markerGroup)
		return err
	})
	return out, err
}

func (c routed) CreateGroup(ctx context.Context, name string, gid uint32) (out accounts.Group, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.CreateGroup(ctx, name, gid)
		return err
	})
	return out, err
}

func (c routed) DeleteGroup(ctx context.Context, name string) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) error {
		return p.DeleteGroup(ctx, name)
	})
}

func (c routed) GetGroup(ctx context.Context, name string) (out accounts.Group, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.GetGroup(ctx, name)
		return err
	})
	return out, err
}

func (c routed) SetGroupMembers(ctx context.Context, name string, members []string) (out accounts.Group, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.SetGroupMembers(ctx, name, members)
		return err
	})
	return out, err
}
