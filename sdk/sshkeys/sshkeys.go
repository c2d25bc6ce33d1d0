// Package sshkeys is the plugin contract for SSH keypairs and the keys a
// user may log in with, in OpenSSH formats. It holds the Go interface, its
// types and checks, a map-backed fake, and a small authorized_keys line
// parser (ParseAuthorizedKey) that needs nothing beyond the standard
// library; the go-plugin glue and the gRPC client and server adapters are
// in sshkeys/sshkeysgrpc, the conformance checks in sshkeys/sshkeystest.
//
// Version 2 names the user in every call (lifecycle.User: name, ids,
// home) and leaves where the keys live to the plugin: ~/.ssh/
// authorized_keys (openssh), /etc/ssh/authorized_keys.d/<user>
// (authorizedkeysd), or anywhere sshd's AuthorizedKeysFile reads. A
// plugin reports the files it left for the host to sync (only inside the
// home; what it writes elsewhere it syncs itself), and drops everything
// it keeps of a user at Forget, so a user re-created under the same name
// never inherits a key. Version 1 (home-based, the file pinned to ~/.ssh)
// still runs through the host's adapter for one release (sshkeysgrpc).
//
// What a plugin refuses on its own (sdk/fsutil's fence; PermissionDenied):
// a home or key directory that is not strictly beneath one of its
// policy's roots (the home roots and its own extra roots, e.g.
// /etc/ssh/authorized_keys.d), a user that is not a managed account, and
// keys owned by anyone but a managed account and group — never root's
// home, never root's keys.
package sshkeys

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "sshkeys"

// APIVersion is the contract version this package speaks.
const APIVersion = "sshkeys.v2"

// SSHKeys is implemented by an sshkeys plugin.
type SSHKeys interface {
	// GenerateKeypair makes <Dir>/id_ed25519 (0600) and id_ed25519.pub
	// (0644) owned by the user, Dir defaulting to <home>/.ssh. Without
	// Overwrite an existing pair is kept and its public key returned, so a
	// retried create gives the same key.
	GenerateKeypair(ctx context.Context, spec KeypairSpec) (Keypair, error)
	// AddAuthorizedKeys adds keys the user may log in with, deduplicated
	// by fingerprint with options kept, and returns how many were new and
	// the files left for the host to sync.
	AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (Added, error)
	// RemoveAuthorizedKey removes the user's keys with that fingerprint
	// and returns how many it removed; none is no error.
	RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (int, error)
	// ListAuthorizedKeys lists the keys the user may log in with: what
	// sshd reads, not what the host asked for.
	ListAuthorizedKeys(ctx context.Context, u lifecycle.User) ([]AuthorizedKey, error)
	// Forget drops every key and file the plugin keeps of the user
	// outside the home (lifecycle.Forgetter).
	Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error)
}

// KeypairSpec describes a keypair to generate for User.
type KeypairSpec struct {
	User      lifecycle.User
	Dir       string // "" means <home>/.ssh
	Comment   string
	Overwrite bool
}

// KeyDir is where the pair goes: Dir, or <home>/.ssh.
func (s KeypairSpec) KeyDir() string {
	if s.Dir != "" {
		return s.Dir
	}
	return s.User.Home + "/.ssh"
}

// Keypair is a generated (or kept) keypair.
type Keypair struct {
	PublicKey   string // an authorized_keys line
	Fingerprint string // "SHA256:..."
	PrivatePath string
	PublicPath  string
	// Unsynced are the files written without their fsyncs, the call being
	// under volumes.DeferSync: the host syncs them. Inside the home only.
	Unsynced []string
}

// Added is what AddAuthorizedKeys did.
type Added struct {
	Added int
	// Unsynced are the files written without their fsyncs (see Keypair);
	// a plugin keeping keys outside the home syncs those itself.
	Unsynced []string
}

// AuthorizedKey is one line of an authorized_keys file.
type AuthorizedKey struct {
	Line        string
	Type        string // e.g. "ssh-ed25519"
	Fingerprint string // "SHA256:...", as ssh-keygen -l prints it
	Comment     string
	Options     string // e.g. `no-pty,from="10.0.0.0/8"`
}

// Unimplemented answers every call with an Unimplemented error; embed it.
type Unimplemented struct{}

var _ SSHKeys = Unimplemented{}

func unimplemented(method string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "sshkeys.%s is not implemented by this plugin", method)
}

func (Unimplemented) GenerateKeypair(context.Context, KeypairSpec) (Keypair, error) {
	return Keypair{}, unimplemented("GenerateKeypair")
}
func (Unimplemented) AddAuthorizedKeys(context.Context, lifecycle.User, []string) (Added, error) {
	return Added{}, unimplemented("AddAuthorizedKeys")
}
func (Unimplemented) RemoveAuthorizedKey(context.Context, lifecycle.User, string) (int, error) {
	return 0, unimplemented("RemoveAuthorizedKey")
}
func (Unimplemented) ListAuthorizedKeys(context.Context, lifecycle.User) ([]AuthorizedKey, error) {
	return nil, unimplemented("ListAuthorizedKeys")
}
func (Unimplemented) Forget(context.Context, lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, unimplemented("Forget")
}
