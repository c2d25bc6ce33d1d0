// Package aclgrpc carries the acl contract over gRPC. Concern is its
// descriptor (sdk/concern): the go-plugin glue, the client by API version
// and the host's routed client; Server serves a plugin's acl.ACL, checking
// every request before the implementation sees it; Client is the host's
// acl.ACL over a plugin connection; Routed finds the live plugin at every
// call; V1Client runs a plugin of the first contract for one more
// release. Errors cross as statuses (package sdkerrgrpc). It is kept apart
// from package acl so that code needing only the contract (the core, the
// CLI's API client) links no gRPC, go-plugin or protobuf. Plugin authors
// need not import it: sdk.Serve and the host wire it up.
package aclgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/acl/acltest"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	aclv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v2"
	"google.golang.org/grpc"
)

// Concern describes the acl concern to the sdk, the host and the kit.
var Concern = &concern.Descriptor{
	Name:  acl.Name,
	API:   acl.APIVersion,
	Older: []string{V1},
	Serve: func(s *grpc.Server, impl any) { aclv2.RegisterACLServer(s, NewServer(impl.(acl.ACL))) },
	Client: func(api string, conn grpc.ClientConnInterface) any {
		if api == V1 {
			return NewV1Client(conn)
		}
		return NewClient(conn)
	},
	Routed: func(r concern.Router) any { return Routed(r) },
	Fake:   func() any { return acl.NewFake() },
	Probe:  acltest.Probe,
	Checks: acltest.Checks,
}
