// Package sdk is what a hero_codescalers plugin author imports: Serve, which
// turns a plugin's main into a few lines, the Config that names what the
// plugin serves, the Handshake and plugin map the host shares with it, the
// Manifest written beside each plugin binary, and the typed errors every
// call fails with. The contracts themselves live in one package per
// concern (sdk/accounts, sdk/volumes, sdk/acl, sdk/sshkeys, sdk/sessions,
// sdk/limits, and sdk/identity, which Serve answers itself), each with its gRPC glue
// and descriptor (sdk/concern) in a sub-package (sdk/accounts/accountsgrpc,
// …) and its conformance checks in another (sdk/accounts/accountstest, …);
// Registry lists the descriptors, and sdk/plugintest is the conformance
// kit every plugin passes.
//
// A plugin's main:
//
//	func main() {
//		sdk.Serve(sdk.Config{
//			Name:     "tmuxsessions",
//			Version:  version, // stamped at build: -ldflags "-X main.version=1.2.3"
//			Supports: identity.Supports{Generic: true},
//			Sessions: tmux.New(),
//		})
//	}
package sdk

import (
	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts/accountsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/acl/aclgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/identity/identitygrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/limits/limitsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/sessionsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
)

// Registry lists every OS concern's descriptor, in a fixed order: what
// Serve, the manifest, the host and the conformance kit loop over. A new
// concern is one line here (and its Config field).
var Registry = []*concern.Descriptor{
	accountsgrpc.Concern,
	volumesgrpc.Concern,
	aclgrpc.Concern,
	sshkeysgrpc.Concern,
	sessionsgrpc.Concern,
	limitsgrpc.Concern,
}

// The concern names: plugin-map keys, and the words of a manifest's
// concerns list. identity is served by every plugin besides its concerns.
const (
	ConcernIdentity = identity.Name
	ConcernAccounts = "accounts"
	ConcernVolumes  = "volumes"
	ConcernACL      = "acl"
	ConcernSSHKeys  = "sshkeys"
	ConcernSessions = "sessions"
	ConcernLimits   = "limits"
)

// Concerns lists the names of the Registry, in its order.
var Concerns = func() []string {
	out := make([]string, len(Registry))
	for i, d := range Registry {
		out[i] = d.Name
	}
	return out
}()

// Lookup returns the descriptor of the named concern.
func Lookup(name string) (*concern.Descriptor, bool) {
	for _, d := range Registry {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
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

// PluginMap is the host's side of the plugin map for a plugin that speaks
// apis (its manifest's api_versions, or a function reading them once the
// plugin's identity is known): identity plus every concern, with client
// adapters only. Dispense(name) returns the concern's current Go
// interface, e.g. sshkeys.SSHKeys for "sshkeys", whatever version of the
// contract the plugin speaks (an older one through its adapter). A nil
// apis means every concern's current version.
func PluginMap(apis func() []string) map[string]plugin.Plugin {
	m := map[string]plugin.Plugin{ConcernIdentity: &identitygrpc.Plugin{}}
	for _, d := range Registry {
		m[d.Name] = d.ClientPlugin(apis)
	}
	return m
}

// APIs is a PluginMap argument for a known list of api versions.
func APIs(list []string) func() []string { return func() []string { return list } }
