package openssh

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/sshfiles"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/keylock"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// authorizedName is the file in ~/.ssh that openssh keeps keys in.
const authorizedName = "authorized_keys"

// OpenSSH serves the sshkeys concern with the keys in each user's
// ~/.ssh/authorized_keys. Every file it writes is written atomically
// (temp file, fsync, chown, chmod, rename) owned by the user — without
// the fsyncs under volumes.DeferSync, when the host syncs them; ~/.ssh is
// made 0700 when missing. Everything goes through its Fence: a home or
// key directory outside the policy's roots, or an owner that is not a
// managed account and group, is refused with PermissionDenied, and a
// symlink at ~/.ssh or at a key file, or a key file with more than one
// hard link, with FailedPrecondition: a user could point either at
// /etc/shadow.
type OpenSSH struct {
	// Fence is the plugin's fence (fsutil.LoadFence at start).
	Fence *fsutil.Fence
	// dirs serializes the read-modify-write of one directory's files, so
	// concurrent calls never lose a key, while calls for different users
	// run in parallel. Paths are compared as given: no element of them is
	// ever followed through a symlink.
	dirs  keylock.Map
	pairs *sshfiles.Keypairs
}

var _ sshkeys.SSHKeys = (*OpenSSH)(nil)

// New returns an OpenSSH within fence drawing keys from crypto/rand.
func New(fence *fsutil.Fence) *OpenSSH {
	return &OpenSSH{Fence: fence, pairs: &sshfiles.Keypairs{Fence: fence}}
}

// GenerateKeypair makes or keeps the user's own keypair (sshfiles.Keypairs).
func (o *OpenSSH) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	return o.pairs.Generate(ctx, spec)
}
