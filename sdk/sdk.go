// Package sdk is what a hero_codescalers plugin author imports: Serve, which
// turns a plugin's main into a few lines, the Config that names what the
// plugin serves, the Handshake and plugin map the host shares with it, the
// Manifest written beside each plugin binary, and the typed errors every
// call fails with. The contracts themselves live in one package per
// concern (sdk/accounts, sdk/volumes, sdk/acl, sdk/sshkeys, sdk/sessions,
// and sdk/identity, which Serve answers itself), each with its gRPC glue in
// a sub-package (sdk/accounts/accountsgrpc, …), and sdk/plugintest is the
// conformance kit every plugin passes.
//
// A plugin's main:
//
//	func main() {
//		sdk.Serve(sdk.Config{
//			Name:     "tmuxsessions",
//			Version:  "0.1.0",
//			Supports: identity.Supports{Generic: true},
//			Sessions: tmux.New(),
//		})
//	}
package sdk

import (
	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts/accountsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/acl/aclgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/identity/identitygrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/sessionsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
)

// The concern names: plugin-map keys, and the words of a manifest's
// concerns list.
const (
	ConcernIdentity = identity.Name
	ConcernAccounts = accounts.Name
	ConcernVolumes  = volumes.Name
	ConcernACL      = acl.Name
	ConcernSSHKeys  = sshkeys.Name
	ConcernSessions = sessions.Name
)

// Concerns lists the five OS concerns in a fixed order.
var Concerns = []string{ConcernAccounts, ConcernVolumes, ConcernACL, ConcernSSHKeys, ConcernSessions}

// APIVersions maps each concern (and identity) to the contract version this
// sdk speaks.
var APIVersions = map[string]string{
	ConcernIdentity: identity.APIVersion,
	ConcernAccounts: accounts.APIVersion,
	ConcernVolumes:  volumes.APIVersion,
	ConcernACL:      acl.APIVersion,
	ConcernSSHKeys:  sshkeys.APIVersion,
	ConcernSessions: sessions.APIVersion,
}

// Handshake is shared by the host and every plugin. The magic cookie only
// keeps a plugin from being run by hand by mistake; it is not a secret.
// ProtocolVersion changes only if the contracts break, which released
// protos never do.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HERO_CODESCALERS_PLUGIN",
	MagicCookieValue: "5e1b3c0a-hero-codescalers-plugin",
}

// PluginMap is the host's side of the plugin map: every concern plus
// identity, with client adapters only. Dispense(name) returns the concern's
// Go interface, e.g. accounts.Accounts for "accounts".
func PluginMap() map[string]plugin.Plugin {
	return map[string]plugin.Plugin{
		ConcernIdentity: &identitygrpc.Plugin{},
		ConcernAccounts: &accountsgrpc.Plugin{},
		ConcernVolumes:  &volumesgrpc.Plugin{},
		ConcernACL:      &aclgrpc.Plugin{},
		ConcernSSHKeys:  &sshkeysgrpc.Plugin{},
		ConcernSessions: &sessionsgrpc.Plugin{},
	}
}
