// Command procfs is the built-in sessions plugin that works on any Linux,
// with or without systemd: it finds login sessions in /proc and utmp and
// ends them with signals. See internal/discover for what a session is. It
// acts only on the accounts its policy manages (sdk/sessions/guard), and
// KillUser ends every process of such an account, sessions or not.
package main

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// UtmpEnv names the environment variable that overrides the utmp path
// (default /var/run/utmp), so tests can read a fixture.
const UtmpEnv = "HERO_CODESCALERS_PROCFS_UTMP"

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

func main() {
	p := New(os.Getenv(UtmpEnv), guard.Load())
	sdk.Serve(sdk.Config{
		Name:     "procfs",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe:    p.Probe,
		Sessions: p,
	})
}
