package limitsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	limitsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/limits/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// Client is the host side: a limits.Limits over a gRPC connection. It does
// not check input itself, so the conformance kit sees what the plugin
// does.
type Client struct {
	rpc limitsv1.LimitsClient
}

var _ limits.Limits = (*Client)(nil)

// NewClient wraps a connection to a limits plugin speaking limits.v1.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: limitsv1.NewLimitsClient(conn)}
}

func (c *Client) Set(ctx context.Context, u lifecycle.User, v limits.Values) (int, error) {
	r, err := c.rpc.Set(ctx, &limitsv1.SetRequest{User: lifecyclegrpc.UserToProto(u), Limits: toProto(v)})
	if err != nil {
		return 0, sdkerrgrpc.FromStatus(err)
	}
	return int(r.GetMoved()), nil
}

func (c *Client) Get(ctx context.Context, u lifecycle.User) (limits.Values, error) {
	r, err := c.rpc.Get(ctx, &limitsv1.GetRequest{User: lifecyclegrpc.UserToProto(u)})
	if err != nil {
		return limits.Values{}, sdkerrgrpc.FromStatus(err)
	}
	return fromProto(r.GetLimits()), nil
}

func (c *Client) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecyclegrpc.CallForget(ctx, c.rpc.Forget, u)
}

func toProto(v limits.Values) *limitsv1.Values {
	return &limitsv1.Values{CpuMillicores: v.MilliCPU, MemoryBytes: v.Memory}
}

func fromProto(v *limitsv1.Values) limits.Values {
	return limits.Values{MilliCPU: v.GetCpuMillicores(), Memory: v.GetMemoryBytes()}
}
