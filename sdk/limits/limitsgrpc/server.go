package limitsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	limitsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/limits/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
)

// Server adapts a limits.Limits implementation to the v1 gRPC service,
// checking every request before the implementation sees it.
type Server struct {
	limitsv1.UnimplementedLimitsServer
	impl limits.Limits
}

var _ limitsv1.LimitsServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl limits.Limits) *Server { return &Server{impl: impl} }

func (s *Server) Set(ctx context.Context, r *limitsv1.SetRequest) (*limitsv1.SetResponse, error) {
	u, v := lifecyclegrpc.UserFromProto(r.GetUser()), fromProto(r.GetLimits())
	if err := limits.ValidateUser(u); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := limits.ValidateValues(v); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	n, err := s.impl.Set(ctx, u, v)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &limitsv1.SetResponse{Moved: uint32(n)}, nil
}

func (s *Server) Get(ctx context.Context, r *limitsv1.GetRequest) (*limitsv1.GetResponse, error) {
	u := lifecyclegrpc.UserFromProto(r.GetUser())
	if err := limits.ValidateUser(u); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	v, err := s.impl.Get(ctx, u)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &limitsv1.GetResponse{Limits: toProto(v)}, nil
}

func (s *Server) Forget(ctx context.Context, r *commonv1.ForgetRequest) (*commonv1.ForgetResponse, error) {
	return lifecyclegrpc.ServeForget(ctx, s.impl, r)
}
