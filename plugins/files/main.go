// Package files is the default accounts plugin, also for minimal images
// without shadow-utils (distroless, slim containers, appliances): it edits
// /etc/passwd, shadow, group and gshadow itself, under the same locks as
// shadow-utils (lckpwdf's /etc/.pwd.lock plus each file's <file>.lock), so
// it can run beside useradd and friends without either losing an entry.
// Its batch create is the fastest: one lock, one rewrite of each file.
package files

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	f := New()
	sdk.Serve(sdk.Config{
		Name:    "files",
		Version: version,
		// Every distribution the shadow plugin serves, where the host
		// prefers it (host/plugins.Native), and any other.
		Supports: identity.Supports{
			OSIDs:     []string{"debian", "ubuntu", "fedora", "arch"},
			OSIDLikes: []string{"debian", "ubuntu", "fedora", "arch"},
			Generic:   true,
		},
		Probe:    f.Probe,
		OnStart:  f.Fence.Log,
		Accounts: f,
	})
}
