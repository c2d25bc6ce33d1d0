package sshkeysgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	sshkeysv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"google.golang.org/grpc"
)

// Client is the host side: an sshkeys.SSHKeys over a connection to a v2
// plugin. It does not check input itself, so the conformance kit sees
// what the plugin does.
type Client struct {
	rpc sshkeysv2.SSHKeysClient
}

var _ sshkeys.SSHKeys = (*Client)(nil)

// NewClient wraps a connection to an sshkeys plugin speaking sshkeys.v2.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: sshkeysv2.NewSSHKeysClient(conn)}
}

func (c *Client) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	r, err := c.rpc.GenerateKeypair(ctx, &sshkeysv2.GenerateKeypairRequest{User: lifecyclegrpc.UserToProto(spec.User),
		Dir: spec.Dir, Comment: spec.Comment, Overwrite: spec.Overwrite})
	if err != nil {
		return sshkeys.Keypair{}, sdkerrgrpc.FromStatus(err)
	}
	return sshkeys.Keypair{PublicKey: r.GetPublicKey(), Fingerprint: r.GetFingerprint(),
		PrivatePath: r.GetPrivatePath(), PublicPath: r.GetPublicPath(), Unsynced: r.GetUnsynced()}, nil
}

func (c *Client) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (sshkeys.Added, error) {
	r, err := c.rpc.AddAuthorizedKeys(ctx, &sshkeysv2.AddAuthorizedKeysRequest{User: lifecyclegrpc.UserToProto(u), Keys: keys})
	if err != nil {
		return sshkeys.Added{}, sdkerrgrpc.FromStatus(err)
	}
	return sshkeys.Added{Added: int(r.GetAdded()), Unsynced: r.GetUnsynced()}, nil
}

func (c *Client) RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (int, error) {
	r, err := c.rpc.RemoveAuthorizedKey(ctx, &sshkeysv2.RemoveAuthorizedKeyRequest{User: lifecyclegrpc.UserToProto(u), Fingerprint: fingerprint})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetRemoved()), nil
}

func (c *Client) ListAuthorizedKeys(ctx context.Context, u lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	r, err := c.rpc.ListAuthorizedKeys(ctx, &sshkeysv2.ListAuthorizedKeysRequest{User: lifecyclegrpc.UserToProto(u)})
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

func (c *Client) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecyclegrpc.CallForget(ctx, c.rpc.Forget, u)
}
