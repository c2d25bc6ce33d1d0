// Package openssh is the sshkeys plugin: it generates ed25519 keypairs in
// OpenSSH's formats with golang.org/x/crypto/ssh (no ssh-keygen needed)
// and keeps users' authorized_keys files, never following a symlink a user
// may have planted at ~/.ssh or at the files in it. It reads the policy at
// start and writes only beneath its roots (the home roots, and its own
// roots in the policy's [roots] table, e.g. /etc/ssh/authorized_keys.d),
// files owned by managed accounts only.
package openssh

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	fence := fsutil.LoadFence("openssh")
	sdk.Serve(sdk.Config{
		Name:     "openssh",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe: fence.Probe(func(context.Context) identity.ProbeResult {
			return identity.ProbeResult{Ready: true, Reason: "pure Go; no OpenSSH tools needed"}
		}),
		SSHKeys: fsutil.FenceSSHKeys(fence, New(fence)),
	})
}
