// Package identitygrpc carries the identity contract over gRPC. Plugin is the
// go-plugin glue; Server serves an identity.Identity (sdk.Serve's, built from
// the plugin's Config); Client is the host's identity.Identity over a plugin
// connection. Errors cross as statuses (package sdkerrgrpc). It is kept apart
// from package identity so that code needing only the contract (the core, the
// CLI's API client) links no gRPC, go-plugin or protobuf. Plugin authors need
// not import it: sdk.Serve and the host wire it up.
package identitygrpc

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	identityv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/identity/v1"
	"google.golang.org/grpc"
)

// Plugin is the go-plugin glue. In a plugin, Impl is served; in the host,
// Impl is nil and Dispense returns a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl identity.Identity
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the server adapter around Impl.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	identityv1.RegisterIdentityServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns the client adapter, an identity.Identity.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}
