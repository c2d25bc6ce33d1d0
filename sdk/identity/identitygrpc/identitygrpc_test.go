package identitygrpc_test

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/identity/identitygrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"google.golang.org/grpc"
)

func TestIdentityRoundTrip(t *testing.T) {
	info := identity.Info{Name: "btrfs", Version: "1.2.3", Concerns: []string{"volumes"},
		APIVersions: []string{"identity.v1", "volumes.v1"},
		Supports:    identity.Supports{FSTypes: []string{"btrfs"}, OSIDLikes: []string{"debian"}}}
	fake := identity.NewFake(info)
	conn := grpctest.Conn(t, func(s *grpc.Server) { _ = (&identitygrpc.Plugin{Impl: fake}).GRPCServer(nil, s) })
	c := identitygrpc.NewClient(conn)
	got, err := c.GetInfo(context.Background())
	if err != nil || got.Name != "btrfs" || got.Supports.FSTypes[0] != "btrfs" || len(got.APIVersions) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	fake.SetProbe(identity.ProbeResult{Ready: false, Reason: "/home is ext4"}, nil)
	if res, err := c.Probe(context.Background()); err != nil || res.Ready || res.Reason != "/home is ext4" {
		t.Errorf("%+v %v", res, err)
	}
	fake.SetProbe(identity.ProbeResult{}, sdkerr.Errorf(sdkerr.Unavailable, "btrfs tool missing"))
	if _, err := c.Probe(context.Background()); !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Errorf("probe error: %v", err)
	}
}
