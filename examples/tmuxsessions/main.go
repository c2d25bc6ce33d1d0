// Command tmuxsessions is an example third-party hero_codescalers plugin: it
// serves the sessions concern from tmux, treating each tmux session of a
// user as a login session. It imports nothing of hero_codescalers but the
// sdk, which is all a plugin needs; see examples/README.md.
package main

import (
	"context"
	"os"
	"os/exec"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

func main() {
	t := &Tmux{Root: os.Getenv("TMUXSESSIONS_TMPDIR"), Run: execRun, Guard: guard.Load()}
	sdk.Serve(sdk.Config{
		Name:     "tmuxsessions",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe:    t.Probe,
		Sessions: t,
	})
}

// Probe is ready when a tmux binary is on PATH.
func (t *Tmux) Probe(context.Context) identity.ProbeResult {
	if _, err := exec.LookPath("tmux"); err != nil {
		return identity.ProbeResult{Reason: "tmux is not installed"}
	}
	return identity.ProbeResult{Ready: true}
}
