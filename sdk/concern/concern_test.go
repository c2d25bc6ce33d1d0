package concern_test

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
)

// direct routes every call straight to impl, as the host's router does
// once it has found the live process: what remains is the cost of the
// routed client itself.
type direct struct{ impl any }

func (d direct) Route(ctx context.Context, call func(context.Context, any) error) error {
	return call(ctx, d.impl)
}

var alice = lifecycle.User{Name: "alice", UID: 2001, GID: 2001, Home: "/home/alice"}

// TestCallChecksTheClient: a routed call on the wrong implementation is an
// error, never a panic.
func TestCallChecksTheClient(t *testing.T) {
	err := concern.Call(direct{impl: "not a client"}, context.Background(), func(context.Context, sshkeys.SSHKeys) error { return nil })
	if err == nil {
		t.Fatal("no error")
	}
}

// BenchmarkDirectCall and BenchmarkRoutedCall compare a call on the fake
// with the same call through the routed client (a closure and a type
// assertion): the per-call cost the descriptor adds to every plugin call,
// next to a plugin round trip of ~0.2-0.3 ms.
func BenchmarkDirectCall(b *testing.B) {
	k := sshkeys.NewFake()
	ctx := context.Background()
	for b.Loop() {
		_, _ = k.ListAuthorizedKeys(ctx, alice)
	}
}

func BenchmarkRoutedCall(b *testing.B) {
	k := sshkeysgrpc.Routed(direct{impl: sshkeys.NewFake()})
	ctx := context.Background()
	for b.Loop() {
		_, _ = k.ListAuthorizedKeys(ctx, alice)
	}
}
