// Command systemd is the built-in limits plugin for machines that run
// systemd: a user's limits are properties of its user-UID.slice
// (CPUQuotaPerSecUSec and MemoryMax, set persistently through the
// manager's SetUnitProperties over D-Bus), where pam_systemd already puts
// every login of the user — so it moves no process itself — and Forget
// lifts them and reverts the slice's drop-ins. It fits only where
// /run/systemd/system exists, and acts only on the accounts its policy
// manages (sdk/sessions/guard).
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
	s := New(guard.Load(), DialSystem)
	sdk.Serve(sdk.Config{
		Name:     "systemd",
		Version:  version,
		Supports: identity.Supports{Generic: true, RequirePaths: []string{"/run/systemd/system"}},
		Probe:    s.Probe,
		Limits:   s,
	})
}
