package rpc

import (
	"context"
	"errors"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// TestTypedClientRoundTrip drives the real server with the typed client
// the CLI uses, so the two ends of the contract are proven to fit.
func TestTypedClientRoundTrip(t *testing.T) {
	s, _ := newAPIServer(t, allowAll, Info{Version: "rt"}, nil)
	_, sock := serveUnix(t, s)
	c := client.New(sock)
	defer c.Close()
	ctx := context.Background()

	var node core.Node
	if err := c.Call(ctx, api.MNodeAdd, api.NodeAddParams{Name: "n1", Address: "[400::1]:5000"}, &node); err != nil || node.Name != "n1" {
		t.Fatalf("node.add: %v %+v", err, node)
	}
	err := c.Call(ctx, api.MNodeGet, api.NameParams{Name: "missing"}, &node)
	var we *api.Error
	if !errors.As(err, &we) || we.ToCore().Code != core.NotFound || we.Data.Field != "name" {
		t.Fatalf("node.get of a missing node: %v", err)
	}
	var h api.HealthResult
	if err := c.Call(ctx, api.MHealth, api.Empty{}, &h); err != nil || h.Status != StatusOK || h.Version != "rt" {
		t.Fatalf("health: %v %+v", err, h)
	}
}
