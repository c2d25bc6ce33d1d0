// Command procfs is the built-in sessions plugin that works on any Linux,
// with or without systemd: it finds login sessions in /proc and utmp and
// ends them with signals. See internal/discover for what a session is.
package main

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// UtmpEnv names the environment variable that overrides the utmp path
// (default /var/run/utmp), so tests can read a fixture.
const UtmpEnv = "HERO_CODESCALERS_PROCFS_UTMP"

func main() {
	p := New(os.Getenv(UtmpEnv))
	sdk.Serve(sdk.Config{
		Name:     "procfs",
		Version:  "0.1.0",
		Supports: identity.Supports{Generic: true},
		Probe:    p.Probe,
		Sessions: p,
	})
}
