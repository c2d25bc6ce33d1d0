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
		version := strings.TrimSpace(string(out))
		return identity.ProbeResult{Ready: true, Reason: version + "; " + b.Name() + " backend; " + quotaNote(b.Name(), version)}
	}
}

// quotaNote says which quotas the backend turns on where there are none:
// the tool backend needs btrfs-progs 6.7 for simple quotas, and falls
// back to full qgroups, under which only the watcher keeps the
// subvolumes users make inside their homes within the homes' limits.
func quotaNote(backend, version string) string {
	if backend == "tool" && !progsAtLeast(version, 6, 7) {
		return "quotas supported (qgroups); this btrfs-progs cannot turn on simple quotas (6.7 can), so it turns on full qgroups, " +
			"where only the watcher brings the subvolumes users make inside their homes under the homes' limits"
	}
	return "quotas supported (qgroups; simple quotas where the kernel has them)"
}

// progsAtLeast reads "btrfs-progs v6.2" (or "v6.2.1").
func progsAtLeast(version string, major, minor int) bool {
	_, v, ok := strings.Cut(version, " v")
	if !ok {
		return false
	}
	var ma, mi int
	if n, _ := fmt.Sscanf(v, "%d.%d", &ma, &mi); n < 1 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
