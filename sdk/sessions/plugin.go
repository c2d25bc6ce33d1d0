package sessions

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	sessionsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v1"
	"google.golang.org/grpc"
)

// Plugin is the go-plugin glue. In a plugin, Impl is served; in the host,
// Impl is nil and Dispense returns a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Sessions
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the server adapter around Impl.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sessionsv1.RegisterSessionsServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns the client adapter, a Sessions.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}
