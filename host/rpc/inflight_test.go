package rpc

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestInFlightPerCaller: a caller who is not an admin has at most
// maxInFlight calls in flight (a batch counts once); the next is refused
// at once with a clear error, and an admin is never held by that bound.
func TestInFlightPerCaller(t *testing.T) {
	for _, admin := range []bool{false, true} {
		gate := make(chan struct{})
		var entered atomic.Int32
		r := NewRegistry()
		Register(r, "wait", func(context.Context, api.Empty) (api.OK, error) {
			entered.Add(1)
			<-gate
			return api.OK{OK: true}, nil
		})
		Register(r, "now", func(context.Context, api.Empty) (api.OK, error) { return api.OK{OK: true}, nil })
		policy := denyAll
		if admin {
			policy = allowAll
		}
		s, err := NewServer(Options{Methods: []api.Method{{Name: "wait", Params: api.Empty{}, Result: api.OK{}, Access: api.Public},
			{Name: "now", Params: api.Empty{}, Result: api.OK{}, Access: api.Public}}, Handlers: r, Policy: policy, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := serveUnix(t, s)
		var wg sync.WaitGroup
		for range maxInFlight {
			wg.Go(func() { call(t, c, "wait", nil) })
		}
		for deadline := time.Now().Add(10 * time.Second); entered.Load() < maxInFlight; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("admin %v: %d of %d calls in flight after 10s", admin, entered.Load(), maxInFlight)
			}
		}
		got := call(t, c, "now", nil)
		if refused := got.Error != nil; refused != !admin {
			t.Errorf("admin %v: the call beyond %d in flight: %+v", admin, maxInFlight, got.Error)
		}
		close(gate)
		wg.Wait()
		if got := call(t, c, "now", nil); got.Error != nil {
			t.Errorf("admin %v: once the calls are answered: %+v", admin, got.Error)
		}
	}
}
