// Package volumesgrpc carries the volumes contract over gRPC. Concern is
// its descriptor (sdk/concern): the go-plugin glue, the client by API
// version and the host's routed client; Server serves a plugin's
// volumes.Volumes, checking every request before the implementation sees
// it; Client is the host's volumes.Volumes over a plugin connection;
// Routed finds the live plugin at every call. Errors cross as statuses
// (package sdkerrgrpc). The volumes.DeferSync mark crosses as the metadata
// DeferSyncMetadataKey: DeferSyncClientInterceptor on the host's
// connections, DeferSyncServerInterceptor on the plugin's server. It is
// kept apart from package volumes so that code needing only the contract
// (the core, the CLI's API client) links no gRPC, go-plugin or protobuf.
// Plugin authors need not import it: sdk.Serve and the host wire it up.
package volumesgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	volumesv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/volumes/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumestest"
	"google.golang.org/grpc"
)

// Concern describes the volumes concern to the sdk, the host and the kit.
var Concern = &concern.Descriptor{
	Name: volumes.Name,
	API:  volumes.APIVersion,
	Serve: func(s *grpc.Server, impl any) {
		volumesv1.RegisterVolumesServer(s, NewServer(impl.(volumes.Volumes)))
	},
	Client: func(_ string, conn grpc.ClientConnInterface) any { return NewClient(conn) },
	Routed: func(r concern.Router) any { return Routed(r) },
	Fake:   func() any { return volumes.NewFake() },
	Probe:  volumestest.Probe,
	Checks: volumestest.Checks,
}
