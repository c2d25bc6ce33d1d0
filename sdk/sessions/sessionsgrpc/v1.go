package sessionsgrpc

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	sessionsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"google.golang.org/grpc"
)

// V1 is the first sessions contract, which the host still runs for one
// release through V1Client.
const V1 = "sessions.v1"

// V1Client is the host's adapter of a plugin speaking sessions.v1 onto the
// current contract: the calls are the same, and Forget, which v1 lacks,
// forgets nothing beyond what KillUser ended.
type V1Client struct {
	rpc sessionsv1.SessionsClient
}

var _ sessions.Sessions = (*V1Client)(nil)

// NewV1Client wraps a connection to a plugin speaking sessions.v1.
func NewV1Client(conn grpc.ClientConnInterface) *V1Client {
	return &V1Client{rpc: sessionsv1.NewSessionsClient(conn)}
}

func (c *V1Client) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	r, err := c.rpc.ListSessions(ctx, &sessionsv1.ListSessionsRequest{User: user})
	if err != nil {
		return nil, sdkerrgrpc.FromStatus(err)
	}
	out := make([]sessions.Session, len(r.GetSessions()))
	for i, se := range r.GetSessions() {
		out[i] = sessionFromV1(se)
	}
	return out, nil
}

func (c *V1Client) KillSession(ctx context.Context, id string, grace time.Duration) error {
	_, err := c.rpc.KillSession(ctx, &sessionsv1.KillSessionRequest{Id: id, GraceMs: graceMs(grace)})
	return sdkerrgrpc.FromStatus(err)
}

func (c *V1Client) KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	r, err := c.rpc.KillUserSessions(ctx, &sessionsv1.KillUserSessionsRequest{User: user, GraceMs: graceMs(grace)})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetKilled()), nil
}

func (c *V1Client) KillUser(ctx context.Context, user string, grace time.Duration) (sessions.Ended, error) {
	r, err := c.rpc.KillUser(ctx, &sessionsv1.KillUserRequest{User: user, GraceMs: graceMs(grace)})
	if err != nil {
		return sessions.Ended{}, sdkerrgrpc.FromStatus(err)
	}
	return sessions.Ended{Sessions: int(r.GetSessions()), Processes: int(r.GetProcesses())}, nil
}

// Forget has nothing to ask a v1 plugin.
func (c *V1Client) Forget(context.Context, lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, nil
}

func sessionFromV1(s *sessionsv1.Session) sessions.Session {
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
