package aclgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	aclv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v1"
	aclv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// V1 is the first acl contract, which the host still runs for one release
// through V1Client.
const V1 = "acl.v1"

// V1Client is the host's adapter of a plugin speaking acl.v1 onto the
// current contract: the calls are the same, and Forget, which v1 lacks,
// forgets nothing — a v1 acl plugin keeps no per-user state the contract
// knew of, and the conformance kit names any it leaves.
type V1Client struct {
	rpc aclv1.ACLClient
}

var _ acl.ACL = (*V1Client)(nil)

// NewV1Client wraps a connection to a plugin speaking acl.v1.
func NewV1Client(conn grpc.ClientConnInterface) *V1Client {
	return &V1Client{rpc: aclv1.NewACLClient(conn)}
}

func (c *V1Client) Grant(ctx context.Context, path string, entries []acl.Entry, recursive bool) error {
	_, err := c.rpc.Grant(ctx, &aclv1.GrantRequest{Path: path, Entries: entriesToV1(entries), Recursive: recursive})
	return sdkerrgrpc.FromStatus(err)
}

func (c *V1Client) Revoke(ctx context.Context, path string, entries []acl.Entry) error {
	_, err := c.rpc.Revoke(ctx, &aclv1.RevokeRequest{Path: path, Entries: entriesToV1(entries)})
	return sdkerrgrpc.FromStatus(err)
}

func (c *V1Client) Get(ctx context.Context, path string) (acl.List, error) {
	r, err := c.rpc.Get(ctx, &aclv1.GetRequest{Path: path})
	if err != nil {
		return acl.List{}, sdkerrgrpc.FromStatus(err)
	}
	return acl.List{Access: entriesFromV1(r.GetAccess()), Default: entriesFromV1(r.GetDefaultEntries())}, nil
}

func (c *V1Client) SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error {
	_, err := c.rpc.SetOwnership(ctx, &aclv1.SetOwnershipRequest{Path: path, Uid: uid, Gid: gid, Mode: mode})
	return sdkerrgrpc.FromStatus(err)
}

// Forget has nothing to ask a v1 plugin.
func (c *V1Client) Forget(context.Context, lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, nil
}

// entriesToV1 converts through the v2 wire entries: both versions number
// their tags alike.
func entriesToV1(es []acl.Entry) []*aclv1.Entry {
	out := make([]*aclv1.Entry, len(es))
	for i, e := range entriesToProto(es) {
		out[i] = &aclv1.Entry{Tag: aclv1.Tag(e.Tag), Qualifier: e.Qualifier, Perms: e.Perms, Default: e.Default}
	}
	return out
}

func entriesFromV1(es []*aclv1.Entry) []acl.Entry {
	out := make([]acl.Entry, len(es))
	for i, e := range es {
		out[i] = acl.Entry{Tag: tagFromProto(aclv2.Tag(e.GetTag())), Qualifier: e.GetQualifier(), Perms: e.GetPerms(), Default: e.GetDefault()}
	}
	return out
}
