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

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

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
