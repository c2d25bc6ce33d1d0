package volumes

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	volumesv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/volumes/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"google.golang.org/grpc"
)

// Plugin is the go-plugin glue. In a plugin, Impl is served; in the host,
// Impl is nil and Dispense returns a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Volumes
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the server adapter around Impl.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	volumesv1.RegisterVolumesServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns the client adapter, a Volumes.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

func invalidSize(n int) error {
	return sdkerr.Invalid("data", "%d bytes is more than the %d WriteFile places", n, maxFile)
}
