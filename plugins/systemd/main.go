// Package systemd is the built-in limits plugin for machines that run
// systemd: a user's limits are properties of its user-UID.slice
// (CPUQuotaPerSecUSec and MemoryMax, set persistently through the
// manager's SetUnitProperties over D-Bus), where pam_systemd already puts
// every login of the user — so it moves no process itself — and Forget
// lifts them and reverts the slice's drop-ins. It fits only where
// /run/systemd/system exists, and acts only on the accounts its policy
// manages (sdk/sessions/guard).
package systemd

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	s := New(guard.Load(), DialSystem)
	sdk.Serve(sdk.Config{
		Name:     "systemd",
		Version:  version,
		Supports: identity.Supports{Generic: true, RequirePaths: []string{"/run/systemd/system"}},
		Probe:    s.Probe,
		Limits:   s,
	})
}
