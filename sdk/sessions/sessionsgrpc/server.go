package sessionsgrpc

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	sessionsv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// Server adapts a sessions.Sessions implementation to the v2 gRPC service,
// checking every request before the implementation sees it.
type Server struct {
	sessionsv2.UnimplementedSessionsServer
	impl sessions.Sessions
}

var _ sessionsv2.SessionsServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl sessions.Sessions) *Server { return &Server{impl: impl} }

func (s *Server) ListSessions(ctx context.Context, r *sessionsv2.ListSessionsRequest) (*sessionsv2.ListSessionsResponse, error) {
	if err := check.OptionalName("user", r.GetUser()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	list, err := s.impl.ListSessions(ctx, r.GetUser())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := make([]*sessionsv2.Session, len(list))
	for i, se := range list {
		out[i] = sessionToProto(se)
	}
	return &sessionsv2.ListSessionsResponse{Sessions: out}, nil
}

func (s *Server) KillSession(ctx context.Context, r *sessionsv2.KillSessionRequest) (*sessionsv2.KillSessionResponse, error) {
	grace := time.Duration(r.GetGraceMs()) * time.Millisecond
	if err := sessions.ValidateID(r.GetId()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sessions.ValidateGrace(grace); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.KillSession(ctx, r.GetId(), grace); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sessionsv2.KillSessionResponse{}, nil
}

func (s *Server) KillUserSessions(ctx context.Context, r *sessionsv2.KillUserSessionsRequest) (*sessionsv2.KillUserSessionsResponse, error) {
	grace := time.Duration(r.GetGraceMs()) * time.Millisecond
	if err := sessions.ValidateUser(r.GetUser()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sessions.ValidateGrace(grace); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	n, err := s.impl.KillUserSessions(ctx, r.GetUser(), grace)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sessionsv2.KillUserSessionsResponse{Killed: uint32(n)}, nil
}

func (s *Server) KillUser(ctx context.Context, r *sessionsv2.KillUserRequest) (*sessionsv2.KillUserResponse, error) {
	grace := time.Duration(r.GetGraceMs()) * time.Millisecond
	if err := sessions.ValidateUser(r.GetUser()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sessions.ValidateGrace(grace); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	e, err := s.impl.KillUser(ctx, r.GetUser(), grace)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sessionsv2.KillUserResponse{Sessions: uint32(e.Sessions), Processes: uint32(e.Processes)}, nil
}

func (s *Server) Forget(ctx context.Context, r *commonv1.ForgetRequest) (*commonv1.ForgetResponse, error) {
	return lifecyclegrpc.ServeForget(ctx, s.impl, r)
}
