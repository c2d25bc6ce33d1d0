// Package accountsgrpc carries the accounts contract over gRPC. Concern is
// its descriptor (sdk/concern): the go-plugin glue, the client by API
// version and the host's routed client; Server serves a plugin's
// accounts.Accounts, checking every request before the implementation sees
// it; Client is the host's accounts.Accounts over a plugin connection;
// Routed finds the live plugin at every call. Errors cross as statuses
// (package sdkerrgrpc). It is kept apart from package accounts so that code
// needing only the contract (the core, the CLI's API client) links no gRPC,
// go-plugin or protobuf. Plugin authors need not import it: sdk.Serve and
// the host wire it up.
package accountsgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts/accountstest"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	accountsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/accounts/v1"
	"google.golang.org/grpc"
)

// Concern describes the accounts concern to the sdk, the host and the kit.
var Concern = &concern.Descriptor{
	Name: accounts.Name,
	API:  accounts.APIVersion,
	Serve: func(s *grpc.Server, impl any) {
		accountsv1.RegisterAccountsServer(s, NewServer(impl.(accounts.Accounts)))
	},
	Client: func(_ string, conn grpc.ClientConnInterface) any { return NewClient(conn) },
	Routed: func(r concern.Router) any { return Routed(r) },
	Fake:   func() any { return accounts.NewFake() },
	Probe:  accountstest.Probe,
	Checks: accountstest.Checks,
}
