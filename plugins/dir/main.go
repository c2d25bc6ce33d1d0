// Command dir is the hero_codescalers volumes plugin for any filesystem
// (ext4, xfs, ...): each home is a plain directory, without quotas or
// snapshots. On btrfs the btrfs plugin ranks above it. It reads the policy
// at start and acts only beneath its roots, for managed owners only.
package main

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/plugins/dir/internal/dirvol"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

func main() {
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
