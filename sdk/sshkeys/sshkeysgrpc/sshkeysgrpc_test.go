package sshkeysgrpc_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

func client(t *testing.T) sshkeys.SSHKeys {
	fake := sshkeys.NewFake()
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(volumesgrpc.DeferSyncServerInterceptor))
	conn := grpctest.ConnWith(t, srv, func(s *grpc.Server) { sshkeysgrpc.Concern.Serve(s, fake) },
		grpc.WithChainUnaryInterceptor(volumesgrpc.DeferSyncClientInterceptor))
	return sshkeysgrpc.NewClient(conn)
}

// A real key and the fingerprint `ssh-keygen -lf` prints for it.
const (
	realKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"
	realFP  = "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU" // ssh-keygen -lf
)

var alice = lifecycle.User{Name: "alice", UID: 2001, GID: 2001, Home: "/home/alice"}

func TestAuthorizedKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	other := sshkeys.FakePublicKey("bob")
	if a, err := c.AddAuthorizedKeys(volumes.DeferSync(ctx), alice, []string{realKey, other, realKey}); err != nil || a.Added != 2 ||
		!slices.Equal(a.Unsynced, []string{"/home/alice/.ssh/authorized_keys"}) {
		t.Fatalf("added %+v %v", a, err)
	}
	if a, _ := c.AddAuthorizedKeys(ctx, alice, []string{realKey}); a.Added != 0 || a.Unsynced != nil {
		t.Errorf("re-add: %+v", a)
	}
	keys, err := c.ListAuthorizedKeys(ctx, alice)
	if err != nil || len(keys) != 2 || keys[0].Fingerprint != realFP || keys[0].Comment != "alice@laptop" {
		t.Fatalf("%+v %v", keys, err)
	}
	for want := 1; want >= 0; want-- {
		if n, err := c.RemoveAuthorizedKey(ctx, alice, realFP); err != nil || n != want {
			t.Errorf("removed %d %v, want %d", n, err, want)
		}
	}
	if _, err := c.AddAuthorizedKeys(ctx, alice, []string{"not a key"}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("bad key: %v", err)
	}
	if _, err := c.RemoveAuthorizedKey(ctx, alice, "MD5:aa"); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("bad fingerprint: %v", err)
	}
	if _, err := c.Forget(ctx, lifecycle.User{Name: "-rf"}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("bad user: %v", err)
	}
	if _, err := c.Forget(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.ListAuthorizedKeys(ctx, alice); err != nil || len(keys) != 0 {
		t.Errorf("after Forget: %+v %v", keys, err)
	}
}

func TestGenerateKeypairIsIdempotent(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	spec := sshkeys.KeypairSpec{User: alice, Comment: "alice@node"}
	a, err := c.GenerateKeypair(volumes.DeferSync(ctx), spec)
	if err != nil || len(a.Unsynced) != 2 {
		t.Fatal(a, err)
	}
	b, _ := c.GenerateKeypair(ctx, spec)
	a.Unsynced = nil
	if !reflect.DeepEqual(a, b) || a.PrivatePath != "/home/alice/.ssh/id_ed25519" {
		t.Errorf("%+v vs %+v", a, b)
	}
	spec.Overwrite = true
	if c2, _ := c.GenerateKeypair(ctx, spec); c2.Fingerprint == a.Fingerprint {
		t.Error("overwrite kept the key")
	}
}
