package accountsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	accountsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/accounts/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
)

// Server adapts an accounts.Accounts implementation to the gRPC service. It
// checks every request (package check) before the implementation sees it and
// turns returned errors into statuses that carry their sdkerr detail.
type Server struct {
	accountsv1.UnimplementedAccountsServer
	impl accounts.Accounts
}

var _ accountsv1.AccountsServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl accounts.Accounts) *Server { return &Server{impl: impl} }

func (s *Server) CreateUser(ctx context.Context, r *accountsv1.CreateUserRequest) (*accountsv1.CreateUserResponse, error) {
	spec := specFromProto(r.GetSpec())
	if err := accounts.ValidateUserSpec(spec); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	u, err := s.impl.CreateUser(ctx, spec)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.CreateUserResponse{User: userToProto(u)}, nil
}

// CreateUsers checks each spec on its own: a bad spec fails its own result,
// the others still go to the implementation, in their original order.
func (s *Server) CreateUsers(ctx context.Context, r *accountsv1.CreateUsersRequest) (*accountsv1.CreateUsersResponse, error) {
	results := make([]*accountsv1.CreateUsersResult, len(r.GetSpecs()))
	var valid []accounts.UserSpec
	var index []int
	for i, ps := range r.GetSpecs() {
		spec := specFromProto(ps)
		if err := accounts.ValidateUserSpec(spec); err != nil {
			results[i] = &accountsv1.CreateUsersResult{Error: sdkerrgrpc.ToDetail(err)}
			continue
		}
		valid = append(valid, spec)
		index = append(index, i)
	}
	if len(valid) > 0 {
		out, err := s.impl.CreateUsers(ctx, valid)
		if err != nil {
			return nil, sdkerrgrpc.ToStatus(err)
		}
		if len(out) != len(valid) {
			return nil, sdkerrgrpc.ToStatus(sdkerr.Errorf(sdkerr.Internal,
				"CreateUsers returned %d results for %d specs", len(out), len(valid)))
		}
		for j, res := range out {
			results[index[j]] = batchToProto(res)
		}
	}
	return &accountsv1.CreateUsersResponse{Results: results}, nil
}

func batchToProto(res accounts.BatchResult) *accountsv1.CreateUsersResult {
	if res.Err != nil {
		return &accountsv1.CreateUsersResult{Error: sdkerrgrpc.ToDetail(res.Err)}
	}
	return &accountsv1.CreateUsersResult{User: userToProto(res.User)}
}

func (s *Server) DeleteUser(ctx context.Context, r *accountsv1.DeleteUserRequest) (*accountsv1.DeleteUserResponse, error) {
	if err := accounts.ValidateUserRef(r.GetName(), r.GetMarkerGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	opts := accounts.DeleteOptions{RemoveHome: r.GetRemoveHome(), MarkerGroup: r.GetMarkerGroup()}
	if err := s.impl.DeleteUser(ctx, r.GetName(), opts); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.DeleteUserResponse{}, nil
}

func (s *Server) GetUser(ctx context.Context, r *accountsv1.GetUserRequest) (*accountsv1.GetUserResponse, error) {
	if err := check.Name("name", r.GetName()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	u, err := s.impl.GetUser(ctx, r.GetName())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.GetUserResponse{User: userToProto(u)}, nil
}

func (s *Server) ListUsers(ctx context.Context, r *accountsv1.ListUsersRequest) (*accountsv1.ListUsersResponse, error) {
	if err := check.OptionalName("group", r.GetGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	users, err := s.impl.ListUsers(ctx, r.GetGroup())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := make([]*accountsv1.User, len(users))
	for i, u := range users {
		out[i] = userToProto(u)
	}
	return &accountsv1.ListUsersResponse{Users: out}, nil
}

func (s *Server) LockUser(ctx context.Context, r *accountsv1.LockUserRequest) (*accountsv1.LockUserResponse, error) {
	if err := accounts.ValidateUserRef(r.GetName(), r.GetMarkerGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.LockUser(ctx, r.GetName(), r.GetMarkerGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.LockUserResponse{}, nil
}

func (s *Server) UnlockUser(ctx context.Context, r *accountsv1.UnlockUserRequest) (*accountsv1.UnlockUserResponse, error) {
	if err := accounts.ValidateUserRef(r.GetName(), r.GetMarkerGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.UnlockUser(ctx, r.GetName(), r.GetMarkerGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.UnlockUserResponse{}, nil
}

func (s *Server) SetUserGroups(ctx context.Context, r *accountsv1.SetUserGroupsRequest) (*accountsv1.SetUserGroupsResponse, error) {
	if err := accounts.ValidateUserRef(r.GetName(), r.GetMarkerGroup()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := check.Names("groups", r.GetGroups()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	u, err := s.impl.SetUserGroups(ctx, r.GetName(), r.GetGroups(), r.GetMarkerGroup())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &accountsv1.SetUserGroupsResponse{User: userToProto(u)}, nil
}
