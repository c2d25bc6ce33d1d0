package aclgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	aclv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v2"
	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
)

// Server adapts an acl.ACL implementation to the v2 gRPC service, checking every
// request before the implementation sees it.
type Server struct {
	aclv2.UnimplementedACLServer
	impl acl.ACL
}

var _ aclv2.ACLServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl acl.ACL) *Server { return &Server{impl: impl} }

func (s *Server) Grant(ctx context.Context, r *aclv2.GrantRequest) (*aclv2.GrantResponse, error) {
	entries := entriesFromProto(r.GetEntries())
	if err := acl.ValidatePathEntries(r.GetPath(), entries); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.Grant(ctx, r.GetPath(), entries, r.GetRecursive()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv2.GrantResponse{}, nil
}

func (s *Server) Revoke(ctx context.Context, r *aclv2.RevokeRequest) (*aclv2.RevokeResponse, error) {
	entries := entriesFromProto(r.GetEntries())
	if err := acl.ValidatePathEntries(r.GetPath(), entries); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.Revoke(ctx, r.GetPath(), entries); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv2.RevokeResponse{}, nil
}

func (s *Server) Get(ctx context.Context, r *aclv2.GetRequest) (*aclv2.GetResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	l, err := s.impl.Get(ctx, r.GetPath())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv2.GetResponse{Access: entriesToProto(l.Access), DefaultEntries: entriesToProto(l.Default)}, nil
}

func (s *Server) SetOwnership(ctx context.Context, r *aclv2.SetOwnershipRequest) (*aclv2.SetOwnershipResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := check.Mode("mode", r.GetMode()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.SetOwnership(ctx, r.GetPath(), r.GetUid(), r.GetGid(), r.GetMode()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &aclv2.SetOwnershipResponse{}, nil
}

func (s *Server) Forget(ctx context.Context, r *commonv1.ForgetRequest) (*commonv1.ForgetResponse, error) {
	return lifecyclegrpc.ServeForget(ctx, s.impl, r)
}
