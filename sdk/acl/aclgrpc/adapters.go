package aclgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	aclv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// Server adapts an acl.ACL implementation to the gRPC service, checking every
// request before the implementation sees it.
type Server struct {
	aclv1.UnimplementedACLServer
	impl acl.ACL
}

var _ aclv1.ACLServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl acl.ACL) *Server { return &Server{impl: impl} }

func (s *Server) Grant(ctx context.Context, r *aclv1.GrantRequest) (*aclv1.GrantResponse, error) {
	entries := entriesFromProto(r.GetEntries())
	if err := acl.ValidatePathEntries(r.GetPath(), entries); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.Grant(ctx, r.GetPath(), entries, r.GetRecursive()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv1.GrantResponse{}, nil
}

func (s *Server) Revoke(ctx context.Context, r *aclv1.RevokeRequest) (*aclv1.RevokeResponse, error) {
	entries := entriesFromProto(r.GetEntries())
	if err := acl.ValidatePathEntries(r.GetPath(), entries); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.Revoke(ctx, r.GetPath(), entries); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv1.RevokeResponse{}, nil
}

func (s *Server) Get(ctx context.Context, r *aclv1.GetRequest) (*aclv1.GetResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	l, err := s.impl.Get(ctx, r.GetPath())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv1.GetResponse{Access: entriesToProto(l.Access), DefaultEntries: entriesToProto(l.Default)}, nil
}

func (s *Server) SetOwnership(ctx context.Context, r *aclv1.SetOwnershipRequest) (*aclv1.SetOwnershipResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := check.Mode("mode", r.GetMode()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.SetOwnership(ctx, r.GetPath(), r.GetUid(), r.GetGid(), r.GetMode()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv1.SetOwnershipResponse{}, nil
}

// Client is the host side: an acl.ACL over a gRPC connection. It does not
// check input itself, so the conformance kit sees what the plugin does.
type Client struct {
	rpc aclv1.ACLClient
}

var _ acl.ACL = (*Client)(nil)

// NewClient wraps a connection to an acl plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: aclv1.NewACLClient(conn)}
}

func (c *Client) Grant(ctx context.Context, path string, entries []acl.Entry, recursive bool) error {
	_, err := c.rpc.Grant(ctx, &aclv1.GrantRequest{Path: path, Entries: entriesToProto(entries), Recursive: recursive})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) Revoke(ctx context.Context, path string, entries []acl.Entry) error {
	_, err := c.rpc.Revoke(ctx, &aclv1.RevokeRequest{Path: path, Entries: entriesToProto(entries)})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) Get(ctx context.Context, path string) (acl.List, error) {
	r, err := c.rpc.Get(ctx, &aclv1.GetRequest{Path: path})
	if err != nil {
		return acl.List{}, sdkerrgrpc.FromStatus(err)
	}
	return acl.List{Access: entriesFromProto(r.GetAccess()), Default: entriesFromProto(r.GetDefaultEntries())}, nil
}

func (c *Client) SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error {
	_, err := c.rpc.SetOwnership(ctx, &aclv1.SetOwnershipRequest{Path: path, Uid: uid, Gid: gid, Mode: mode})
	return sdkerrgrpc.FromStatus(err)
}
