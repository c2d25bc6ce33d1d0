package sdk

import (
	"context"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/identity/identitygrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Config is what a plugin tells Serve: who it is, where it fits, and one
// implementation per concern it serves (nil for the others).
type Config struct {
	Name     string // lower case, e.g. "shadow"
	Version  string
	Supports identity.Supports

	// Roots are the directories outside the homes the plugin keeps state
	// in (its manifest's roots): the policy must grant them under [roots],
	// and the conformance kit grants them in its sandbox.
	Roots []string

	// Probe reports readiness; nil means always ready.
	Probe func(ctx context.Context) identity.ProbeResult

	Accounts accounts.Accounts
	Volumes  volumes.Volumes
	ACL      acl.ACL
	SSHKeys  sshkeys.SSHKeys
	Sessions sessions.Sessions
	Limits   limits.Limits

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

// impls maps each concern to the Config's implementation of it: the one
// place the Config's typed fields meet the Registry.
func (c Config) impls() map[string]any {
	return map[string]any{
		ConcernAccounts: c.Accounts,
		ConcernVolumes:  c.Volumes,
		ConcernACL:      c.ACL,
		ConcernSSHKeys:  c.SSHKeys,
		ConcernSessions: c.Sessions,
		ConcernLimits:   c.Limits,
	}
}

// served lists the concerns with an implementation, in Registry order,
// each with it. A nil interface field is not served; a typed nil is.
func (c Config) served() []servedConcern {
	impls := c.impls()
	var out []servedConcern
	for _, d := range Registry {
		if impl := impls[d.Name]; impl != nil {
			out = append(out, servedConcern{d, impl})
		}
	}
	return out
}

type servedConcern struct {
	d    *concern.Descriptor
	impl any
}

// Manifest is the manifest this Config describes.
func (c Config) Manifest() Manifest {
	var concerns []string
	apis := []string{identity.APIVersion}
	for _, s := range c.served() {
		concerns = append(concerns, s.d.Name)
		apis = append(apis, s.d.API)
	}
	return Manifest{Schema: ManifestSchema, Name: c.Name, Version: c.Version,
		Concerns: concerns, APIVersions: apis, Supports: c.Supports, Roots: c.Roots}
}

// pluginSet is the plugin's side of the plugin map: identity plus the
// concerns it serves.
func (c Config) pluginSet() plugin.PluginSet {
	set := plugin.PluginSet{
		ConcernIdentity: &identitygrpc.Plugin{Impl: &identity.Static{Info: c.Manifest().Info(), ProbeFunc: c.Probe}},
	}
	for _, s := range c.served() {
		set[s.d.Name] = s.d.ServerPlugin(s.impl)
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
