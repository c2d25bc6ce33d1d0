// Package procfs is the built-in sessions plugin that works on any Linux,
// with or without systemd: it finds login sessions in /proc and utmp and
// ends them with signals. See internal/discover for what a session is. It
// acts only on the accounts its policy manages (sdk/sessions/guard), and
// KillUser ends every process of such an account, sessions or not.
package procfs

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// UtmpEnv names the environment variable that overrides the utmp path
// (default /var/run/utmp), so tests can read a fixture.
const UtmpEnv = "HERO_CODESCALERS_PROCFS_UTMP"

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	p := New(os.Getenv(UtmpEnv), guard.Load())
	sdk.Serve(sdk.Config{
		Name:     "procfs",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe:    p.Probe,
		Sessions: p,
	})
}
