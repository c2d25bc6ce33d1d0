package rpc

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// BenchmarkHandleHealth measures the JSON-RPC layer alone on the hot
// path: decode, dispatch, policy, the health handler and encode, without
// HTTP. The end-to-end numbers over rpc.sock next to a bare net/http
// handler come from go run ./bench/health.
func BenchmarkHandleHealth(b *testing.B) {
	s, _ := newAPIServer(b, allowAll, Info{Version: "x"}, nil)
	ctx := core.WithCaller(context.Background(), core.Caller{UID: 0})
	body := []byte(`{"jsonrpc":"2.0","method":"health","id":1}`)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.handle(s.withCaller(ctx), body, buf[:0])
	}
}
