package aclgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	aclv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// Client is the host side: an acl.ACL over a gRPC connection. It does not
// check input itself, so the conformance kit sees what the plugin does.
type Client struct {
	rpc aclv2.ACLClient
}

var _ acl.ACL = (*Client)(nil)

// NewClient wraps a connection to an acl plugin speaking acl.v2.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: aclv2.NewACLClient(conn)}
}

func (c *Client) Grant(ctx context.Context, path string, entries []acl.Entry, recursive bool) error {
	_, err := c.rpc.Grant(ctx, &aclv2.GrantRequest{Path: path, Entries: entriesToProto(entries), Recursive: recursive})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) Revoke(ctx context.Context, path string, entries []acl.Entry) error {
	_, err := c.rpc.Revoke(ctx, &aclv2.RevokeRequest{Path: path, Entries: entriesToProto(entries)})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) Get(ctx context.Context, path string) (acl.List, error) {
	r, err := c.rpc.Get(ctx, &aclv2.GetRequest{Path: path})
	if err != nil {
		return acl.List{}, sdkerrgrpc.FromStatus(err)
	}
	return acl.List{Access: entriesFromProto(r.GetAccess()), Default: entriesFromProto(r.GetDefaultEntries())}, nil
}

func (c *Client) SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error {
	_, err := c.rpc.SetOwnership(ctx, &aclv2.SetOwnershipRequest{Path: path, Uid: uid, Gid: gid, Mode: mode})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecyclegrpc.CallForget(ctx, c.rpc.Forget, u)
}
