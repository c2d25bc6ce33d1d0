// Command openssh is the sshkeys plugin: it generates ed25519 keypairs in
// OpenSSH's formats with golang.org/x/crypto/ssh (no ssh-keygen needed)
// and keeps users' authorized_keys files, never following a symlink a user
// may have planted at ~/.ssh or at the files in it.
package main

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

func main() {
	sdk.Serve(sdk.Config{
		Name:     "openssh",
		Version:  "0.1.0",
		Supports: identity.Supports{Generic: true},
		Probe: func(context.Context) identity.ProbeResult {
			return identity.ProbeResult{Ready: true, Reason: "pure Go; no OpenSSH tools needed"}
		},
		SSHKeys: New(),
	})
}
