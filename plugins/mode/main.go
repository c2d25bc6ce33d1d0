// Command mode is the acl plugin for filesystems without POSIX ACLs
// (vfat, some network and overlay mounts): it changes ownership and the
// owner, group and other permission bits, and says plainly that named
// users, named groups, masks and default entries are beyond it. Like
// posixacl it reads the policy at start and acts only within it.
package main

import (
	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

func main() {
	fence := fsutil.LoadFence("mode")
	m := &Mode{Guard: aclfs.NewGuard(fence)}
	sdk.Serve(sdk.Config{
		Name:     "mode",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe:    fence.Probe(m.Probe),
		ACL:      fsutil.FenceACL(fence, m),
	})
}
