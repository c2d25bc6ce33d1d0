// Package volumesgrpc carries the volumes contract over gRPC. Plugin is the
// go-plugin glue; Server serves a plugin's volumes.Volumes, checking every
// request before the implementation sees it; Client is the host's
// volumes.Volumes over a plugin connection. Errors cross as statuses (package
// sdkerrgrpc). The volumes.DeferSync mark crosses as the metadata
// DeferSyncMetadataKey: DeferSyncClientInterceptor on the host's
// connections, DeferSyncServerInterceptor on the plugin's server. It is kept apart from package volumes so that code needing
// only the contract (the core, the CLI's API client) links no gRPC, go-plugin
// or protobuf. Plugin authors need not import it: sdk.Serve and the host wire
// it up.
package volumesgrpc

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	volumesv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/volumes/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"google.golang.org/grpc"
)

// Plugin is the go-plugin glue. In a plugin, Impl is served; in the host,
// Impl is nil and Dispense returns a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl volumes.Volumes
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the server adapter around Impl.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	volumesv1.RegisterVolumesServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns the client adapter, a volumes.Volumes.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}
