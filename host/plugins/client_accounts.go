package plugins

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// Accounts returns the accounts client core uses. It stays valid across
// plugin restarts: every call resolves the live process.
func (m *Manager) Accounts() accounts.Accounts { return accountsClient{m} }

type accountsClient struct{ m *Manager }

// The manager is what core's use cases take as their plugins.
var _ core.Plugins = (*Manager)(nil)

var _ accounts.Accounts = accountsClient{}

func (c accountsClient) CreateUser(ctx context.Context, spec accounts.UserSpec) (out accounts.User, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.CreateUser(ctx, spec)
		return err
	})
	return out, err
}

// CreateUsers converts each spec's error too, so core sees *core.Error
// throughout.
func (c accountsClient) CreateUsers(ctx context.Context, specs []accounts.UserSpec) (out []accounts.BatchResult, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.CreateUsers(ctx, specs)
		return err
	})
	for i := range out {
		out[i].Err = core.FromPluginError(out[i].Err)
	}
	return out, err
}

func (c accountsClient) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	return call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) error {
		return p.DeleteUser(ctx, name, opts)
	})
}

func (c accountsClient) GetUser(ctx context.Context, name string) (out accounts.User, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.GetUser(ctx, name)
		return err
	})
	return out, err
}

func (c accountsClient) ListUsers(ctx context.Context, group string) (out []accounts.User, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.ListUsers(ctx, group)
		return err
	})
	return out, err
}

func (c accountsClient) LockUser(ctx context.Context, name, markerGroup string) error {
	return call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) error {
		return p.LockUser(ctx, name, markerGroup)
	})
}

func (c accountsClient) UnlockUser(ctx context.Context, name, markerGroup string) error {
	return call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) error {
		return p.UnlockUser(ctx, name, markerGroup)
	})
}

func (c accountsClient) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (out accounts.User, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.SetUserGroups(ctx, name, groups, markerGroup)
		return err
	})
	return out, err
}

func (c accountsClient) CreateGroup(ctx context.Context, name string, gid uint32) (out accounts.Group, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.CreateGroup(ctx, name, gid)
		return err
	})
	return out, err
}

func (c accountsClient) DeleteGroup(ctx context.Context, name string) error {
	return call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) error {
		return p.DeleteGroup(ctx, name)
	})
}

func (c accountsClient) GetGroup(ctx context.Context, name string) (out accounts.Group, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.GetGroup(ctx, name)
		return err
	})
	return out, err
}

func (c accountsClient) SetGroupMembers(ctx context.Context, name string, members []string) (out accounts.Group, err error) {
	err = call(c.m, ctx, accounts.Name, func(ctx context.Context, p accounts.Accounts) (err error) {
		out, err = p.SetGroupMembers(ctx, name, members)
		return err
	})
	return out, err
}
