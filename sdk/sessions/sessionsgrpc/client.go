package sessionsgrpc

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	sessionsv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"google.golang.org/grpc"
)

// Client is the host side: a sessions.Sessions over a gRPC connection. It
// does not check input itself, so the conformance kit sees what the plugin
// does.
type Client struct {
	rpc sessionsv2.SessionsClient
}

var _ sessions.Sessions = (*Client)(nil)

// NewClient wraps a connection to a sessions plugin speaking sessions.v2.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: sessionsv2.NewSessionsClient(conn)}
}

func (c *Client) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	r, err := c.rpc.ListSessions(ctx, &sessionsv2.ListSessionsRequest{User: user})
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
	_, err := c.rpc.KillSession(ctx, &sessionsv2.KillSessionRequest{Id: id, GraceMs: graceMs(grace)})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	r, err := c.rpc.KillUserSessions(ctx, &sessionsv2.KillUserSessionsRequest{User: user, GraceMs: graceMs(grace)})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetKilled()), nil
}

func (c *Client) KillUser(ctx context.Context, user string, grace time.Duration) (sessions.Ended, error) {
	r, err := c.rpc.KillUser(ctx, &sessionsv2.KillUserRequest{User: user, GraceMs: graceMs(grace)})
	if err != nil {
		return sessions.Ended{}, sdkerrgrpc.FromStatus(err)
	}
	return sessions.Ended{Sessions: int(r.GetSessions()), Processes: int(r.GetProcesses())}, nil
}

func (c *Client) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecyclegrpc.CallForget(ctx, c.rpc.Forget, u)
}
