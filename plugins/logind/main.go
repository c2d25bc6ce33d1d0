// Command logind is the built-in sessions plugin for machines that run
// systemd-logind: it lists and ends login sessions through logind's D-Bus
// API, so sessions are exactly the ones logind tracks (their processes are
// the session's scope). Where logind does not run, its Probe says so and
// every call fails with Unavailable.
package main

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

func main() {
	l := New()
	sdk.Serve(sdk.Config{
		Name:     "logind",
		Version:  "0.1.0",
		Supports: identity.Supports{Generic: true, RequirePaths: []string{"/run/systemd/seats"}},
		Probe:    l.Probe,
		Sessions: l,
	})
}
