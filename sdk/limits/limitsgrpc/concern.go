// Package limitsgrpc carries the limits contract over gRPC. Concern is its
// descriptor (sdk/concern): the go-plugin glue, the client and the host's
// routed client; Server serves a plugin's limits.Limits, checking every
// request before the implementation sees it; Client is the host's
// limits.Limits over a plugin connection. Errors cross as statuses
// (package sdkerrgrpc). It is kept apart from package limits so that code
// needing only the contract (the core, the CLI) links no gRPC.
package limitsgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/limits/limitstest"
	limitsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/limits/v1"
	"google.golang.org/grpc"
)

// Concern describes the limits concern to the sdk, the host and the kit.
var Concern = &concern.Descriptor{
	Name: limits.Name,
	API:  limits.APIVersion,
	Serve: func(s *grpc.Server, impl any) {
		limitsv1.RegisterLimitsServer(s, NewServer(impl.(limits.Limits)))
	},
	Client: func(_ string, conn grpc.ClientConnInterface) any { return NewClient(conn) },
	Routed: func(r concern.Router) any { return Routed(r) },
	Fake:   func() any { return limits.NewFake() },
	Probe:  limitstest.Probe,
	Checks: limitstest.Checks,
	// A host without a limits plugin runs: users just have no limits.
	Optional: true,
}
