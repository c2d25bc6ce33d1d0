// Package logind is the built-in sessions plugin for machines that run
// systemd-logind: it lists and ends login sessions through logind's D-Bus
// API, so sessions are exactly the ones logind tracks (their processes are
// the session's scope). Where logind does not run, its Probe says so and
// every call fails with Unavailable. It acts only on the accounts its
// policy manages (sdk/sessions/guard), and KillUser ends every process of
// such an account, inside logind's sessions or not.
package logind

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	l := New(guard.Load())
	sdk.Serve(sdk.Config{
		Name:     "logind",
		Version:  version,
		Supports: identity.Supports{Generic: true, RequirePaths: []string{"/run/systemd/seats"}},
		Probe:    l.Probe,
		Sessions: l,
	})
}
