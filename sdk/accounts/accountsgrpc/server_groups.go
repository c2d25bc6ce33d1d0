package accountsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	accountsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/accounts/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
)

func (s *Server) CreateGroup(ctx context.Context, r *accountsv1.CreateGroupRequest) (*accountsv1.CreateGroupResponse, error) {
	if err := check.Name("name", r.GetName()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	g, err := s.impl.CreateGroup(ctx, r.GetName(), r.GetGid())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.CreateGroupResponse{Group: groupToProto(g)}, nil
}

func (s *Server) DeleteGroup(ctx context.Context, r *accountsv1.DeleteGroupRequest) (*accountsv1.DeleteGroupResponse, error) {
	if err := check.Name("name", r.GetName()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.DeleteGroup(ctx, r.GetName()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.DeleteGroupResponse{}, nil
}

func (s *Server) GetGroup(ctx context.Context, r *accountsv1.GetGroupRequest) (*accountsv1.GetGroupResponse, error) {
	if err := check.Name("name", r.GetName()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	g, err := s.impl.GetGroup(ctx, r.GetName())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.GetGroupResponse{Group: groupToProto(g)}, nil
}

func (s *Server) SetGroupMembers(ctx context.Context, r *accountsv1.SetGroupMembersRequest) (*accountsv1.SetGroupMembersResponse, error) {
	if err := check.Name("name", r.GetName()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := check.Names("members", r.GetMembers()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	g, err := s.impl.SetGroupMembers(ctx, r.GetName(), r.GetMembers())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.SetGroupMembersResponse{Group: groupToProto(g)}, nil
}
