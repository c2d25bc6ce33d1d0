// Package sshkeysgrpc carries the sshkeys contract over gRPC. Concern is
// its descriptor (sdk/concern): the go-plugin glue, the client by API
// version and the host's routed client; Server serves a plugin's
// sshkeys.SSHKeys, checking every request before the implementation sees
// it; Client is the host's sshkeys.SSHKeys over a plugin connection;
// Routed finds the live plugin at every call; V1Client runs a plugin of the
// first contract for one more release. Errors cross as statuses
// (package sdkerrgrpc). It is kept apart from package sshkeys so that code
// needing only the contract (the core, the CLI's API client) links no
// gRPC, go-plugin or protobuf. Plugin authors need not import it:
// sdk.Serve and the host wire it up.
package sshkeysgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	sshkeysv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeystest"
	"google.golang.org/grpc"
)

// Concern describes the sshkeys concern to the sdk, the host and the kit.
var Concern = &concern.Descriptor{
	Name:  sshkeys.Name,
	API:   sshkeys.APIVersion,
	Older: []string{V1},
	Serve: func(s *grpc.Server, impl any) {
		sshkeysv2.RegisterSSHKeysServer(s, NewServer(impl.(sshkeys.SSHKeys)))
	},
	Client: func(api string, conn grpc.ClientConnInterface) any {
		if api == V1 {
			return NewV1Client(conn)
		}
		return NewClient(conn)
	},
	Routed: func(r concern.Router) any { return Routed(r) },
	Fake:   func() any { return sshkeys.NewFake() },
	Probe:  sshkeystest.Probe,
	Checks: sshkeystest.Checks,
}
