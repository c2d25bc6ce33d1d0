package sessionsgrpc

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	sessionsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"google.golang.org/grpc"
)

// Server adapts a sessions.Sessions implementation to the gRPC service,
// checking every request before the implementation sees it.
type Server struct {
	sessionsv1.UnimplementedSessionsServer
	impl sessions.Sessions
}

var _ sessionsv1.SessionsServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl sessions.Sessions) *Server { return &Server{impl: impl} }

func (s *Server) ListSessions(ctx context.Context, r *sessionsv1.ListSessionsRequest) (*sessionsv1.ListSessionsResponse, error) {
	if err := check.OptionalName("user", r.GetUser()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	list, err := s.impl.ListSessions(ctx, r.GetUser())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := make([]*sessionsv1.Session, len(list))
	for i, se := range list {
		out[i] = sessionToProto(se)
	}
	return &sessionsv1.ListSessionsResponse{Sessions: out}, nil
}

func (s *Server) KillSession(ctx context.Context, r *sessionsv1.KillSessionRequest) (*sessionsv1.KillSessionResponse, error) {
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
	return &sessionsv1.KillSessionResponse{}, nil
}

func (s *Server) KillUserSessions(ctx context.Context, r *sessionsv1.KillUserSessionsRequest) (*sessionsv1.KillUserSessionsResponse, error) {
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
	return &sessionsv1.KillUserSessionsResponse{Killed: uint32(n)}, nil
}

func (s *Server) KillUser(ctx context.Context, r *sessionsv1.KillUserRequest) (*sessionsv1.KillUserResponse, error) {
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
	return &sessionsv1.KillUserResponse{Sessions: uint32(e.Sessions), Processes: uint32(e.Processes)}, nil
}

// Client is the host side: a sessions.Sessions over a gRPC connection. It
// does not check input itself, so the conformance kit sees what the plugin
// does.
type Client struct {
	rpc sessionsv1.SessionsClient
}

var _ sessions.Sessions = (*Client)(nil)

// NewClient wraps a connection to a sessions plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: sessionsv1.NewSessionsClient(conn)}
}

func (c *Client) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	r, err := c.rpc.ListSessions(ctx, &sessionsv1.ListSessionsRequest{User: user})
	if err != nil {
		return nil, sdkerrgrpc.FromStatus(err)
	}
	out := make([]sessions.Session, len(r.GetSessions()))
	for i, se := range r.GetSessions() {
		out[i] = sessionFromProto(se)
	}
	return out, nil
}

func (c *Client) KillSession(ctx context.Context, id string, grace time.Duration) error {
	_, err := c.rpc.KillSession(ctx, &sessionsv1.KillSessionRequest{Id: id, GraceMs: graceMs(grace)})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	r, err := c.rpc.KillUserSessions(ctx, &sessionsv1.KillUserSessionsRequest{User: user, GraceMs: graceMs(grace)})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetKilled()), nil
}

func (c *Client) KillUser(ctx context.Context, user string, grace time.Duration) (sessions.Ended, error) {
	r, err := c.rpc.KillUser(ctx, &sessionsv1.KillUserRequest{User: user, GraceMs: graceMs(grace)})
	if err != nil {
		return sessions.Ended{}, sdkerrgrpc.FromStatus(err)
	}
	return sessions.Ended{Sessions: int(r.GetSessions()), Processes: int(r.GetProcesses())}, nil
}

func graceMs(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min(d.Milliseconds(), int64(^uint32(0))))
}

func sessionToProto(s sessions.Session) *sessionsv1.Session {
	pids := make([]int32, len(s.PIDs))
	for i, p := range s.PIDs {
		pids[i] = int32(p)
	}
	var started int64
	if !s.Started.IsZero() {
		started = s.Started.Unix()
	}
	return &sessionsv1.Session{Id: s.ID, User: s.User, Tty: s.TTY, RemoteHost: s.RemoteHost,
		Started: started, IdleSecs: int64(s.Idle / time.Second), Pids: pids}
}

func sessionFromProto(s *sessionsv1.Session) sessions.Session {
	pids := make([]int, len(s.GetPids()))
	for i, p := range s.GetPids() {
		pids[i] = int(p)
	}
	var started time.Time
	if s.GetStarted() != 0 {
		started = time.Unix(s.GetStarted(), 0)
	}
	return sessions.Session{ID: s.GetId(), User: s.GetUser(), TTY: s.GetTty(), RemoteHost: s.GetRemoteHost(),
		Started: started, Idle: time.Duration(s.GetIdleSecs()) * time.Second, PIDs: pids}
}
