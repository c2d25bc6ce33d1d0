// Package sessionsgrpc carries the sessions contract over gRPC. Plugin is the
// go-plugin glue; Server serves a plugin's sessions.Sessions, checking every
// request before the implementation sees it; Client is the host's
// sessions.Sessions over a plugin connection. Errors cross as statuses
// (package sdkerrgrpc). It is kept apart from package sessions so that code
// needing only the contract (the core, the CLI's API client) links no gRPC,
// go-plugin or protobuf. Plugin authors need not import it: sdk.Serve and the
// host wire it up.
package sessionsgrpc

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	sessionsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"google.golang.org/grpc"
)

// Plugin is the go-plugin glue. In a plugin, Impl is served; in the host,
// Impl is nil and Dispense returns a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl sessions.Sessions
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the server adapter around Impl.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sessionsv1.RegisterSessionsServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns the client adapter, a sessions.Sessions.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}
