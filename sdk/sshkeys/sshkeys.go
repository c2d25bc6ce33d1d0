// Package sshkeys is the plugin contract for SSH keypairs and
// authorized_keys in OpenSSH formats. It holds the Go interface, its types
// and checks, a map-backed fake, and a small authorized_keys line parser
// (ParseAuthorizedKey) that needs nothing beyond the standard library; the
// go-plugin glue and the gRPC client and server adapters are in
// sshkeys/sshkeysgrpc.
//
// What a plugin refuses on its own (sdk/fsutil's fence; PermissionDenied):
// a home or key directory that is not strictly beneath one of its
// policy's roots (the home roots and its own extra roots, e.g.
// /etc/ssh/authorized_keys.d), and keys owned by anyone but a managed
// account and group — never root, so authorized_keys can never be put
// into /root/.ssh nor given to root. RemoveAuthorizedKey rewrites the file
// with its owner, which is fenced the same way.
package sshkeys

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "sshkeys"

// APIVersion is the contract version this package speaks.
const APIVersion = "sshkeys.v1"

// SSHKeys is implemented by an sshkeys plugin.
type SSHKeys interface {
	// GenerateKeypair makes <Dir>/id_ed25519 (0600) and id_ed25519.pub
	// (0644) owned by UID:GID. Without Overwrite an existing pair is kept
	// and its public key returned, so a retried create gives the same key.
	GenerateKeypair(ctx context.Context, spec KeypairSpec) (Keypair, error)
	// AddAuthorizedKeys adds keys to <home>/.ssh/authorized_keys (0600,
	// .ssh 0700, owned by uid:gid), deduplicated by fingerprint with options
	// kept, and returns how many were new.
	AddAuthorizedKeys(ctx context.Context, home string, uid, gid uint32, keys []string) (int, error)
	// RemoveAuthorizedKey removes the keys with that fingerprint and returns
	// how many it removed; none is no error.
	RemoveAuthorizedKey(ctx context.Context, home, fingerprint string) (int, error)
	ListAuthorizedKeys(ctx context.Context, home string) ([]AuthorizedKey, error)
}

// KeypairSpec describes a keypair to generate.
type KeypairSpec struct {
	Dir       string
	UID, GID  uint32
	Comment   string
	Overwrite bool
}

// Keypair is a generated (or kept) keypair.
type Keypair struct {
	PublicKey   string // an authorized_keys line
	Fingerprint string // "SHA256:..."
	PrivatePath string
	PublicPath  string
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
func (Unimplemented) AddAuthorizedKeys(context.Context, string, uint32, uint32, []string) (int, error) {
	return 0, unimplemented("AddAuthorizedKeys")
}
func (Unimplemented) RemoveAuthorizedKey(context.Context, string, string) (int, error) {
	return 0, unimplemented("RemoveAuthorizedKey")
}
func (Unimplemented) ListAuthorizedKeys(context.Context, string) ([]AuthorizedKey, error) {
	return nil, unimplemented("ListAuthorizedKeys")
}
