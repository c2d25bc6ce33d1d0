// Package shadow is the accounts plugin for distributions with shadow-utils
// (Debian, Ubuntu, Fedora, Arch): it creates, changes and deletes users and
// groups with useradd, usermod, userdel, groupadd, groupdel, gpasswd, and
// creates many users in one pass with newusers and chpasswd. It reads the
// account files directly. See DESIGN.md §1 and §3.
package shadow

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
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
