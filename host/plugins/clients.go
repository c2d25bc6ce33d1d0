package plugins

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// The manager is what core's use cases take as their plugins.
var _ core.Plugins = (*Manager)(nil)

// The clients core uses, one per concern. Each stays valid across plugin
// restarts and upgrades: every call resolves the live process (router).
func (m *Manager) Accounts() accounts.Accounts {
	return m.clients[sdk.ConcernAccounts].(accounts.Accounts)
}
func (m *Manager) Volumes() volumes.Volumes { return m.clients[sdk.ConcernVolumes].(volumes.Volumes) }
func (m *Manager) ACL() acl.ACL             { return m.clients[sdk.ConcernACL].(acl.ACL) }
func (m *Manager) SSHKeys() sshkeys.SSHKeys { return m.clients[sdk.ConcernSSHKeys].(sshkeys.SSHKeys) }
func (m *Manager) Sessions() sessions.Sessions {
	return m.clients[sdk.ConcernSessions].(sessions.Sessions)
}

// All lists every concern's client, in the sdk's order.
func (m *Manager) All() []core.PluginClient {
	out := make([]core.PluginClient, len(sdk.Registry))
	for i, d := range sdk.Registry {
		out[i] = core.PluginClient{Name: d.Name, Client: m.clients[d.Name]}
	}
	return out
}

// routedClients builds every concern's stable client over its router.
func (m *Manager) routedClients() map[string]any {
	out := make(map[string]any, len(sdk.Registry))
	for _, d := range sdk.Registry {
		out[d.Name] = d.Routed(router{m: m, concern: d.Name})
	}
	return out
}

// router routes one concern's calls to the live process serving it.
type router struct {
	m       *Manager
	concern string
}

// Route runs call on the client of the live process and turns its error
// into a *core.Error. Calls never wait for a plugin that is starting or
// restarting: they fail at once with Unavailable and the reason, and the
// caller (a user, a reconcile loop) retries an idempotent call.
func (r router) Route(ctx context.Context, call func(context.Context, any) error) error {
	p, inst, err := r.m.resolve(r.concern)
	if err != nil {
		return err
	}
	impl, err := inst.impl(r.concern)
	if err != nil {
		return unavailable(p.name, r.concern, err.Error(), err)
	}
	return p.invoke(ctx, r.concern, inst, func(ctx context.Context) error { return call(ctx, impl) })
}
