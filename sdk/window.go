package sdk

import "google.golang.org/grpc"

// Window is the HTTP/2 flow-control window, per stream and per connection,
// of a plugin's connection, set on both ends: the sdk's server and the
// host's client (ClientWindow). Setting it turns off grpc-go's
// bandwidth-delay estimator, which answers nearly every call's data with a
// PING of its own and its peer's ACK: on a Unix socket between two
// processes of one machine there is no bandwidth-delay product to find,
// and each ping is a write more and one more wake-up on both ends
// (strace on the bench's plugin: 2.04 writes a call before, 1.07 after).
// grpc-go starts at 64 KiB and lets the estimator grow that; 4 MiB is a
// fixed size above it, and a larger message still passes, with window
// updates.
const Window = 4 << 20

// ServerWindow is the server options that set Window.
func ServerWindow() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.InitialWindowSize(Window), grpc.InitialConnWindowSize(Window)}
}

// ClientWindow is the dial options that set Window: a host (or a test of a
// plugin) passes them with its go-plugin client's GRPCDialOptions.
func ClientWindow() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithInitialWindowSize(Window), grpc.WithInitialConnWindowSize(Window)}
}
