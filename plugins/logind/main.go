// Command logind is the built-in sessions plugin for machines that run
// systemd-logind: it lists and ends login sessions through logind's D-Bus
// API, so sessions are exactly the ones logind tracks (their processes are
// the session's scope). Where logind does not run, its Probe says so and
// every call fails with Unavailable. It acts only on the accounts its
// policy manages (sdk/sessions/guard), and KillUser ends every process of
// such an account, inside logind's sessions or not.
package main

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

func main() {
	l := New(guard.Load())
	sdk.Serve(sdk.Config{
		Name:     "logind",
		Version:  version,
		Supports: identity.Supports{Generic: true, RequirePaths: []string{"/run/systemd/seats"}},
		Probe:    l.Probe,
		Sessions: l,
	})
}
