package sshkeysgrpc

import (
	"context"
	"fmt"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	sshkeysv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"google.golang.org/grpc"
)

// V1 is the first sshkeys contract, which the host still runs for one
// release through V1Client.
const V1 = "sshkeys.v1"

// V1Client is the host's adapter of a plugin speaking sshkeys.v1 onto the
// current contract. v1 named a home, not the user, and pinned the keys to
// <home>/.ssh/authorized_keys; it had no Forget and no way to report the
// files left unsynced. So the adapter sends the user's home, clears the
// DeferSync mark (the plugin fsyncs what it writes, and nothing is left
// for the host to sync), and forgets a user by removing, through the
// plugin, every key the plugin lists for it: what a v1 plugin keeps
// beyond its keys (the file itself, outside the home) it cannot be asked
// to drop, and the conformance kit names it. The user's name, which the
// v1 wire cannot carry, is checked here.
type V1Client struct {
	rpc sshkeysv1.SSHKeysClient
}

var _ sshkeys.SSHKeys = (*V1Client)(nil)

// NewV1Client wraps a connection to a plugin speaking sshkeys.v1.
func NewV1Client(conn grpc.ClientConnInterface) *V1Client {
	return &V1Client{rpc: sshkeysv1.NewSSHKeysClient(conn)}
}

func (c *V1Client) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	if err := sshkeys.ValidateKeypairSpec(spec); err != nil {
		return sshkeys.Keypair{}, err
	}
	r, err := c.rpc.GenerateKeypair(volumes.WithoutDeferSync(ctx), &sshkeysv1.GenerateKeypairRequest{Dir: spec.KeyDir(),
		Uid: spec.User.UID, Gid: spec.User.GID, Comment: spec.Comment, Overwrite: spec.Overwrite})
	if err != nil {
		return sshkeys.Keypair{}, sdkerrgrpc.FromStatus(err)
	}
	return sshkeys.Keypair{PublicKey: r.GetPublicKey(), Fingerprint: r.GetFingerprint(),
		PrivatePath: r.GetPrivatePath(), PublicPath: r.GetPublicPath()}, nil
}

func (c *V1Client) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (sshkeys.Added, error) {
	if err := u.Validate(); err != nil {
		return sshkeys.Added{}, err
	}
	r, err := c.rpc.AddAuthorizedKeys(volumes.WithoutDeferSync(ctx), &sshkeysv1.AddAuthorizedKeysRequest{Home: u.Home,
		Uid: u.UID, Gid: u.GID, Keys: keys})
	if err != nil {
		return sshkeys.Added{}, sdkerrgrpc.FromStatus(err)
	}
	return sshkeys.Added{Added: int(r.GetAdded())}, nil
}

func (c *V1Client) RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (int, error) {
	if err := u.Validate(); err != nil {
		return 0, err
	}
	r, err := c.rpc.RemoveAuthorizedKey(volumes.WithoutDeferSync(ctx), &sshkeysv1.RemoveAuthorizedKeyRequest{Home: u.Home, Fingerprint: fingerprint})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetRemoved()), nil
}

func (c *V1Client) ListAuthorizedKeys(ctx context.Context, u lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	r, err := c.rpc.ListAuthorizedKeys(ctx, &sshkeysv1.ListAuthorizedKeysRequest{Home: u.Home})
	if err != nil {
		return nil, sdkerrgrpc.FromStatus(err)
	}
	out := make([]sshkeys.AuthorizedKey, len(r.GetKeys()))
	for i, k := range r.GetKeys() {
		out[i] = sshkeys.AuthorizedKey{Line: k.GetLine(), Type: k.GetType(), Fingerprint: k.GetFingerprint(),
			Comment: k.GetComment(), Options: k.GetOptions()}
	}
	return out, nil
}

// Forget removes every key the plugin lists for the user, one by one: the
// most a v1 plugin can be asked. A user without a home has nothing listed.
func (c *V1Client) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	var out lifecycle.Forgotten
	if err := u.Validate(); err != nil {
		return out, err
	}
	if u.Home == "" {
		return out, nil
	}
	keys, err := c.ListAuthorizedKeys(ctx, u)
	if err != nil {
		return out, err
	}
	for _, k := range keys {
		n, err := c.RemoveAuthorizedKey(ctx, u, k.Fingerprint)
		if err != nil {
			return out, err
		}
		if n > 0 {
			out.Removed = append(out.Removed, fmt.Sprintf("key %s (through the sshkeys.v1 adapter)", k.Fingerprint))
		}
	}
	return out, nil
}
