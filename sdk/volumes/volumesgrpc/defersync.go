package volumesgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// DeferSyncMetadataKey is the gRPC metadata key that carries the
// volumes.DeferSync mark from the host to a plugin; its value is "1".
const DeferSyncMetadataKey = "hc-defer-sync"

// DeferSyncClientInterceptor copies the volumes.DeferSync mark of a call's
// context to its outgoing metadata. The host installs it on every plugin
// connection, so the mark reaches the calls of every concern (the sshkeys
// plugin writes key files too); a call without the mark goes out as
// before.
func DeferSyncClientInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if volumes.SyncDeferred(ctx) {
		ctx = metadata.AppendToOutgoingContext(ctx, DeferSyncMetadataKey, "1")
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// DeferSyncServerInterceptor turns the metadata back into the
// volumes.DeferSync mark on the context the plugin's method gets.
// sdk.Serve installs it on the plugin's server.
func DeferSyncServerInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		for _, v := range md.Get(DeferSyncMetadataKey) {
			if v == "1" {
				ctx = volumes.DeferSync(ctx)
				break
			}
		}
	}
	return handler(ctx, req)
}
