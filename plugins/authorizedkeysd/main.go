// Package authorizedkeysd is an sshkeys plugin for machines whose sshd
// reads users' keys from /etc/ssh/authorized_keys.d/<user>
// (AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u): one root-owned file
// per user, which the user cannot change and which the home's removal
// does not take, so it drops a user's file when the host tells it of the
// user's end (Forget). Its manifest asks the host to choose it where
// sshd_config names that layout, and names the directory it keeps state
// in, which the policy must grant it.
package authorizedkeysd

import (
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
	fence := fsutil.LoadFence("authorizedkeysd", sdk.ConcernSSHKeys)
	k := New(fence, KeysDir)
	sdk.Serve(sdk.Config{
		Name:    "authorizedkeysd",
		Version: version,
		Supports: identity.Supports{Generic: true, Config: []identity.ConfigMatch{
			{File: "/etc/ssh/sshd_config", Key: "AuthorizedKeysFile", Value: KeysDir + "/%u"},
		}},
		Roots:   []string{KeysDir},
		Probe:   fence.Probe(k.Probe),
		SSHKeys: fsutil.FenceSSHKeys(fence, k),
	})
}
