// Command shadow is the accounts plugin for distributions with shadow-utils
// (Debian, Ubuntu, Fedora, Arch): it creates, changes and deletes users and
// groups with useradd, usermod, userdel, groupadd, groupdel, gpasswd, and
// creates many users in one pass with newusers and chpasswd. It reads the
// account files directly. See DESIGN.md §1 and §3.
package main

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// version is the plugin's version, set at build time if wanted.
var version = "0.1.0"

func main() {
	s := New()
	sdk.Serve(sdk.Config{
		Name:    "shadow",
		Version: version,
		Supports: identity.Supports{
			OSIDs:     []string{"debian", "ubuntu", "fedora", "arch"},
			OSIDLikes: []string{"debian", "ubuntu", "fedora", "arch"},
		},
		Probe:    s.Probe,
		OnStart:  s.Fence.Log,
		Accounts: s,
	})
}
