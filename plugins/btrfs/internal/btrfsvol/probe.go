package btrfsvol

import (
	"context"
	"fmt"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// BackendEnv selects the backend: "ioctl" (the default) or "tool".
const BackendEnv = "HERO_CODESCALERS_BTRFS_BACKEND"

// ForName returns the backend an operator chose by name ("" is ioctl).
// An unknown name gives the ioctl backend and an error for Probe to report.
func ForName(name string) (Backend, error) {
	switch name {
	case "", "ioctl":
		return Ioctl{}, nil
	case "tool":
		return &Tool{Runner: osutil.Exec{}}, nil
	}
	return Ioctl{}, fmt.Errorf("%s=%q names no backend (want ioctl or tool)", BackendEnv, name)
}

// Probe is ready when btrfs-progs is installed: the tool backend runs it,
// and an admin needs it to inspect what the ioctl backend made. A backend
// chosen wrongly (berr) makes it not ready.
func Probe(b Backend, berr error) func(context.Context) identity.ProbeResult {
	return func(ctx context.Context) identity.ProbeResult {
		if berr != nil {
			return identity.ProbeResult{Reason: berr.Error()}
		}
		out, err := osutil.Exec{}.Run(ctx, []string{"btrfs", "--version"}, nil)
		switch {
		case sdkerr.Is(err, sdkerr.FailedPrecondition):
			return identity.ProbeResult{Reason: "btrfs-progs is not installed (no btrfs in /usr/sbin:/usr/bin:/sbin:/bin)"}
		case err != nil:
			return identity.ProbeResult{Reason: "btrfs --version failed: " + err.Error()}
		}
		return identity.ProbeResult{Ready: true,
			Reason: strings.TrimSpace(string(out)) + "; " + b.Name() + " backend; quotas supported (qgroups)"}
	}
}
