// Package posixacl is the acl plugin for filesystems with POSIX ACLs
// (btrfs, ext4, xfs, tmpfs): it grants, revokes and reads access and
// default entries by reading and writing the system.posix_acl_access and
// system.posix_acl_default extended attributes itself, fork-free, through
// a descriptor opened without following any symlink, and recomputes the
// mask as setfacl does. It reads the policy at start (sdk/fsutil's
// LoadFence) and acts only within it; an unusable policy makes it refuse
// every call and answer Probe not ready. See acl.go for the rules it keeps.
package posixacl

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
	fence := fsutil.LoadFence("posixacl")
	p := &PosixACL{Guard: aclfs.NewGuard(fence)}
	sdk.Serve(sdk.Config{
		Name:     "posixacl",
		Version:  version,
		Supports: identity.Supports{Generic: true, FSTypes: []string{"btrfs", "ext4", "xfs", "tmpfs", "f2fs", "jfs", "ocfs2", "gfs2"}},
		Probe:    fence.Probe(p.Probe),
		ACL:      fsutil.FenceACL(fence, p),
	})
}
