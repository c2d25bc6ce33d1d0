// Package grpctest connects a client to a gRPC server in memory, so the
// sdk's adapter tests go through real gRPC (marshalling, status details,
// metadata, interceptors) without a socket.
package grpctest

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// Conn starts a server with register's services on an in-memory listener
// and returns a client connection to it; both close with the test.
func Conn(t testing.TB, register func(*grpc.Server)) *grpc.ClientConn {
	t.Helper()
	return ConnWith(t, grpc.NewServer(), register)
}

// ConnWith is Conn over a server the caller made (with its interceptors),
// dialled with extra options (client interceptors).
func ConnWith(t testing.TB, srv *grpc.Server, register func(*grpc.Server), dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	opts := append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, dial...)
	conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return conn
}
