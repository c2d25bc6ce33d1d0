// Package mode is the acl plugin for filesystems without POSIX ACLs
// (vfat, some network and overlay mounts): it changes ownership and the
// owner, group and other permission bits, and says plainly that named
// users, named groups, masks and default entries are beyond it. Like
// posixacl it reads the policy at start and acts only within it.
package mode

import (
	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
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
