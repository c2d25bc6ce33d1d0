// Package sessionsgrpc carries the sessions contract over gRPC. Concern is
// its descriptor (sdk/concern): the go-plugin glue, the client by API
// version and the host's routed client; Server serves a plugin's
// sessions.Sessions, checking every request before the implementation
// sees it; Client is the host's sessions.Sessions over a plugin
// connection; Routed finds the live plugin at every call; V1Client runs a
// plugin of the first contract for one more release. Errors cross as
// statuses (package sdkerrgrpc). It is kept apart from package sessions so
// that code needing only the contract (the core, the CLI's API client)
// links no gRPC, go-plugin or protobuf. Plugin authors need not import it:
// sdk.Serve and the host wire it up.
package sessionsgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	sessionsv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/sessionstest"
	"google.golang.org/grpc"
)

// Concern describes the sessions concern to the sdk, the host and the kit.
var Concern = &concern.Descriptor{
	Name:  sessions.Name,
	API:   sessions.APIVersion,
	Older: []string{V1},
	Serve: func(s *grpc.Server, impl any) {
		sessionsv2.RegisterSessionsServer(s, NewServer(impl.(sessions.Sessions)))
	},
	Client: func(api string, conn grpc.ClientConnInterface) any {
		if api == V1 {
			return NewV1Client(conn)
		}
		return NewClient(conn)
	},
	Routed: func(r concern.Router) any { return Routed(r) },
	Fake:   func() any { return sessions.NewFake() },
	Probe:  sessionstest.Probe,
	Checks: sessionstest.Checks,
}
