// Package dir is the hero_codescalers volumes plugin for any filesystem
// (ext4, xfs, ...): each home is a plain directory, without quotas or
// snapshots. On btrfs the btrfs plugin ranks above it. It reads the policy
// at start and acts only beneath its roots, for managed owners only.
package dir

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/plugins/dir/internal/dirvol"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	fence := fsutil.LoadFence("dir")
	sdk.Serve(sdk.Config{
		Name:     "dir",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe: fence.Probe(func(context.Context) identity.ProbeResult {
			return identity.ProbeResult{Ready: true, Reason: "plain directories; quotas unsupported, snapshots unsupported"}
		}),
		Volumes: fsutil.FenceVolumes(fence, dirvol.Volumes{Fence: fence}),
	})
}
