// Command mode is the acl plugin for filesystems without POSIX ACLs
// (vfat, some network and overlay mounts): it changes ownership and the
// owner, group and other permission bits, and says plainly that named
// users, named groups, masks and default entries are beyond it.
package main

import (
	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

func main() {
	m := &Mode{Guard: aclfs.NewGuard()}
	sdk.Serve(sdk.Config{
		Name:     "mode",
		Version:  "0.1.0",
		Supports: identity.Supports{Generic: true},
		Probe:    m.Probe,
		ACL:      m,
	})
}
