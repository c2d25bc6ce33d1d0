package sdk

import (
	"context"
	"time"

	hclog "github.com/hashicorp/go-hclog"
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

// Config is what a plugin tells Serve: who it is, where it fits, and one
// implementation per concern it serves (nil for the others).
type Config struct {
	Name     string // lower case, e.g. "shadow"
	Version  string
	Supports identity.Supports

	// Probe reports readiness; nil means always ready.
	Probe func(ctx context.Context) identity.ProbeResult

	Accounts accounts.Accounts
	Volumes  volumes.Volumes
	ACL      acl.ACL
	SSHKeys  sshkeys.SSHKeys
	Sessions sessions.Sessions

	// OnStart, when set, runs once the logger is in place, before the
	// plugin serves (never for "describe"): where a plugin logs how it
	// starts, such as the policy it read or why it refuses to serve.
	OnStart func(log hclog.Logger)

	// Logger defaults to hclog's JSON format on stderr, which the host
	// parses and forwards into its own log under the plugin's name.
	Logger hclog.Logger
	// StopGrace is how long in-flight calls may finish after SIGTERM or
	// the host's death; default 5s.
	StopGrace time.Duration
	// WatchInterval is how often the parent-death watchdog looks at the
	// parent pid; default 200ms.
	WatchInterval time.Duration
}

// concerns lists the concerns with an implementation, in fixed order.
func (c Config) concerns() []string {
	var out []string
	for _, name := range Concerns {
		if c.impl(name) != nil {
			out = append(out, name)
		}
	}
	return out
}

// impl returns the implementation of a concern, as an untyped nil when the
// Config has none (so a nil interface field is not taken for a served one).
func (c Config) impl(concern string) any {
	switch concern {
	case ConcernAccounts:
		if c.Accounts != nil {
			return c.Accounts
		}
	case ConcernVolumes:
		if c.Volumes != nil {
			return c.Volumes
		}
	case ConcernACL:
		if c.ACL != nil {
			return c.ACL
		}
	case ConcernSSHKeys:
		if c.SSHKeys != nil {
			return c.SSHKeys
		}
	case ConcernSessions:
		if c.Sessions != nil {
			return c.Sessions
		}
	}
	return nil
}

// Manifest is the manifest this Config describes.
func (c Config) Manifest() Manifest {
	concerns := c.concerns()
	apis := []string{identity.APIVersion}
	for _, name := range concerns {
		apis = append(apis, APIVersions[name])
	}
	return Manifest{Schema: ManifestSchema, Name: c.Name, Version: c.Version,
		Concerns: concerns, APIVersions: apis, Supports: c.Supports}
}

// pluginSet is the plugin's side of the plugin map: identity plus the
// concerns it serves.
func (c Config) pluginSet() plugin.PluginSet {
	set := plugin.PluginSet{
		ConcernIdentity: &identitygrpc.Plugin{Impl: &identity.Static{Info: c.Manifest().Info(), ProbeFunc: c.Probe}},
	}
	if c.Accounts != nil {
		set[ConcernAccounts] = &accountsgrpc.Plugin{Impl: c.Accounts}
	}
	if c.Volumes != nil {
		set[ConcernVolumes] = &volumesgrpc.Plugin{Impl: c.Volumes}
	}
	if c.ACL != nil {
		set[ConcernACL] = &aclgrpc.Plugin{Impl: c.ACL}
	}
	if c.SSHKeys != nil {
		set[ConcernSSHKeys] = &sshkeysgrpc.Plugin{Impl: c.SSHKeys}
	}
	if c.Sessions != nil {
		set[ConcernSessions] = &sessionsgrpc.Plugin{Impl: c.Sessions}
	}
	return set
}

func (c Config) withDefaults() Config {
	if c.StopGrace <= 0 {
		c.StopGrace = 5 * time.Second
	}
	if c.WatchInterval <= 0 {
		c.WatchInterval = 200 * time.Millisecond
	}
	return c
}
