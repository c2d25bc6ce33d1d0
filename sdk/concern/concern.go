// Package concern describes one OS concern to every part that treats the
// concerns alike, so that none of them switches on a concern's name:
// sdk.Config and sdk.Serve (which plugin-map entry serves an
// implementation, which API version a manifest lists), the host (which
// client speaks to a plugin of a given API version, and a client that
// finds the live plugin at every call), and the conformance kit (the
// checks every plugin of the concern passes).
//
// Each concern's Descriptor lives in its gRPC package (sshkeysgrpc.Concern,
// …), and package sdk lists them. A new concern is one sdk folder — its
// contract, fake, gRPC glue with its descriptor, and conformance checks —
// one line in that list, and its sdk.Config field; a concern core calls by
// name has an accessor in the core's Plugins and the host's manager, while
// an optional one (limits) needs none: core finds it in Plugins.All.
package concern

import (
	"context"
	"errors"
	"fmt"
	"slices"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"google.golang.org/grpc"
)

// Descriptor is one concern as the sdk, the host and the kit see it.
type Descriptor struct {
	// Name is the concern's name: its plugin-map key and the word in a
	// manifest's concerns.
	Name string
	// API is the contract version this sdk serves, e.g. "sshkeys.v2".
	API string
	// Older are earlier versions the host still runs a plugin of, through
	// an adapter onto the current Go interface, for one release; such a
	// plugin is logged as deprecated.
	Older []string
	// Serve registers the current API's gRPC server around impl, an
	// implementation of the concern's Go interface.
	Serve func(s *grpc.Server, impl any)
	// Client is the host's client of a plugin speaking api (API or one of
	// Older), as the concern's current Go interface.
	Client func(api string, conn grpc.ClientConnInterface) any
	// Routed wraps r as the concern's Go interface: every call asks r for
	// the live implementation. It is the host's stable client, which
	// survives plugin restarts and upgrades.
	Routed func(r Router) any
	// Fake returns a new map-backed implementation, for tests.
	Fake func() any
	// Probe makes one harmless call with bad input, to see whether a
	// plugin serves the concern at all (Unimplemented says it does not).
	Probe func(ctx context.Context, impl any) error
	// Checks are the conformance checks every plugin of the concern passes.
	Checks []conformance.Check
	// Optional says a host runs without a plugin of the concern: its
	// calls then fail with core.ErrNotServed, a user's end skips it, and
	// the host counts itself healthy (limits: users just have none).
	Optional bool
}

// APIs lists every version the host runs: the current one first.
func (d *Descriptor) APIs() []string { return append([]string{d.API}, d.Older...) }

// Speaks picks the version of this concern that a plugin listing apis
// speaks: the current one when listed, else the first older one listed.
func (d *Descriptor) Speaks(apis []string) (string, bool) {
	for _, v := range d.APIs() {
		if slices.Contains(apis, v) {
			return v, true
		}
	}
	return "", false
}

// Deprecated reports whether api is an older version, run through an
// adapter.
func (d *Descriptor) Deprecated(api string) bool { return slices.Contains(d.Older, api) }

// ServerPlugin is go-plugin's entry serving impl in a plugin.
func (d *Descriptor) ServerPlugin(impl any) plugin.Plugin { return &serverPlugin{d: d, impl: impl} }

// ClientPlugin is the host's go-plugin entry for the concern: at dispense
// it builds the client of the version the plugin speaks, which apis says
// (the plugin's manifest or identity; nil means the current version).
func (d *Descriptor) ClientPlugin(apis func() []string) plugin.Plugin {
	return &clientPlugin{d: d, apis: apis}
}

type serverPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	d    *Descriptor
	impl any
}

func (p *serverPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	p.d.Serve(s, p.impl)
	return nil
}

func (p *serverPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, fmt.Errorf("%s: a plugin's own entry has no client", p.d.Name)
}

type clientPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	d    *Descriptor
	apis func() []string
}

func (p *clientPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("%s: the host's entry serves nothing", p.d.Name)
}

func (p *clientPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	api := p.d.API
	if p.apis != nil {
		if v, ok := p.d.Speaks(p.apis()); ok {
			api = v
		}
	}
	return p.d.Client(api, c), nil
}

// Router runs one call on the live implementation of a concern. The
// host's resolves the plugin process at every call and turns its
// failures into the host's errors.
type Router interface {
	Route(ctx context.Context, call func(ctx context.Context, impl any) error) error
}

// Call runs fn on the implementation r routes to, as the concern's Go
// interface T: the body of every method of a Routed client.
func Call[T any](r Router, ctx context.Context, fn func(context.Context, T) error) error {
	return r.Route(ctx, func(ctx context.Context, impl any) error {
		t, ok := impl.(T)
		if !ok {
			var want *T
			return fmt.Errorf("%w: the client is %T, want %T", ErrWrongClient, impl, want)
		}
		return fn(ctx, t)
	})
}

// ErrWrongClient is a routed call whose implementation is not the
// concern's Go interface: a wiring bug, never a plugin's doing.
var ErrWrongClient = errors.New("concern: wrong client type")
