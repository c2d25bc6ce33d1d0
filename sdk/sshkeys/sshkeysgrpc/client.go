package sshkeysgrpc

import (
	"context"

	sshkeysv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"google.golang.org/grpc"
)

// Client is the host side: an sshkeys.SSHKeys over a gRPC connection. It does
// not check input itself, so the conformance kit sees what the plugin does.
type Client struct {
	rpc sshkeysv1.SSHKeysClient
}

var _ sshkeys.SSHKeys = (*Client)(nil)

// NewClient wraps a connection to an sshkeys plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: sshkeysv1.NewSSHKeysClient(conn)}
}

func (c *Client) GenerateKeypair(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	r, err := c.rpc.GenerateKeypair(ctx, &sshkeysv1.GenerateKeypairRequest{Dir: spec.Dir, Uid: spec.UID,
		Gid: spec.GID, Comment: spec.Comment, Overwrite: spec.Overwrite})
	if err != nil {
		return sshkeys.Keypair{}, sdkerrgrpc.FromStatus(err)
	}
	return sshkeys.Keypair{PublicKey: r.GetPublicKey(), Fingerprint: r.GetFingerprint(),
		PrivatePath: r.GetPrivatePath(), PublicPath: r.GetPublicPath()}, nil
}

func (c *Client) AddAuthorizedKeys(ctx context.Context, home string, uid, gid uint32, keys []string) (int, error) {
	r, err := c.rpc.AddAuthorizedKeys(ctx, &sshkeysv1.AddAuthorizedKeysRequest{Home: home, Uid: uid, Gid: gid, Keys: keys})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetAdded()), nil
}

func (c *Client) RemoveAuthorizedKey(ctx context.Context, home, fingerprint string) (int, error) {
	r, err := c.rpc.RemoveAuthorizedKey(ctx, &sshkeysv1.RemoveAuthorizedKeyRequest{Home: home, Fingerprint: fingerprint})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetRemoved()), nil
}

func (c *Client) ListAuthorizedKeys(ctx context.Context, home string) ([]sshkeys.AuthorizedKey, error) {
	r, err := c.rpc.ListAuthorizedKeys(ctx, &sshkeysv1.ListAuthorizedKeysRequest{Home: home})
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
