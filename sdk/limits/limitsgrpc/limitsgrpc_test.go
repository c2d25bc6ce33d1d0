package limitsgrpc_test

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/limits/limitsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"google.golang.org/grpc"
)

// TestLimitsRoundTrip: limits set through the client are read back, a
// Forget drops them, and bad input is refused before the plugin sees it.
func TestLimitsRoundTrip(t *testing.T) {
	ctx := context.Background()
	fake := limits.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { limitsgrpc.Concern.Serve(s, fake) })
	c := limitsgrpc.NewClient(conn)
	alice := lifecycle.User{Name: "alice", UID: 60001, GID: 60001}
	v := limits.Values{MilliCPU: 1500, Memory: 64 << 20}
	if _, err := c.Set(ctx, alice, v); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, alice); err != nil || got != v {
		t.Fatalf("Get = %s, %v; want %s", got, err, v)
	}
	if f, err := c.Forget(ctx, alice); err != nil || len(f.Removed) != 1 {
		t.Fatalf("Forget = %+v, %v", f, err)
	}
	if got, _ := c.Get(ctx, alice); !got.IsZero() {
		t.Errorf("after Forget: %s", got)
	}
	for _, bad := range []limits.Values{{MilliCPU: 1}, {Memory: 64<<20 + 1}, {Memory: 4096}} {
		if _, err := c.Set(ctx, alice, bad); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("Set(%+v): %v", bad, err)
		}
	}
	if _, err := c.Set(ctx, lifecycle.User{Name: "root"}, v); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("uid 0: %v", err)
	}
	if fake.Len() != 0 {
		t.Errorf("the fake has %d users' limits", fake.Len())
	}
}

func TestValuesString(t *testing.T) {
	for v, want := range map[limits.Values]string{
		{}:                                   "cpu=none memory=none",
		{MilliCPU: 1500, Memory: 64 << 20}:   "cpu=1.5 memory=64MiB",
		{MilliCPU: 2000, Memory: 4 << 30}:    "cpu=2 memory=4GiB",
		{MilliCPU: 10, Memory: 5<<20 + 4096}: "cpu=0.01 memory=5124KiB",
	} {
		if got := v.String(); got != want {
			t.Errorf("%+v: %q, want %q", v, got, want)
		}
	}
}
