package sshkeysgrpc_test

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
	"google.golang.org/grpc"
)

func client(t *testing.T) sshkeys.SSHKeys {
	fake := sshkeys.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { sshkeysgrpc.Concern.Serve(s, fake) })
	return sshkeysgrpc.NewClient(conn)
}

// A real key and the fingerprint `ssh-keygen -lf` prints for it.
const (
	realKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"
	realFP  = "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU" // ssh-keygen -lf
)

func TestAuthorizedKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	other := sshkeys.FakePublicKey("bob")
	if n, err := c.AddAuthorizedKeys(ctx, "/home/alice", 2001, 2001, []string{realKey, other, realKey}); err != nil || n != 2 {
		t.Fatalf("added %d %v", n, err)
	}
	if n, _ := c.AddAuthorizedKeys(ctx, "/home/alice", 2001, 2001, []string{realKey}); n != 0 {
		t.Errorf("re-add added %d", n)
	}
	keys, err := c.ListAuthorizedKeys(ctx, "/home/alice")
	if err != nil || len(keys) != 2 || keys[0].Fingerprint != realFP || keys[0].Comment != "alice@laptop" {
		t.Fatalf("%+v %v", keys, err)
	}
	for want := 1; want >= 0; want-- {
		if n, err := c.RemoveAuthorizedKey(ctx, "/home/alice", realFP); err != nil || n != want {
			t.Errorf("removed %d %v, want %d", n, err, want)
		}
	}
	if _, err := c.AddAuthorizedKeys(ctx, "/home/alice", 0, 0, []string{"not a key"}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("bad key: %v", err)
	}
	if _, err := c.RemoveAuthorizedKey(ctx, "/home/alice", "MD5:aa"); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("bad fingerprint: %v", err)
	}
}

func TestGenerateKeypairIsIdempotent(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	spec := sshkeys.KeypairSpec{Dir: "/home/alice/.ssh", UID: 2001, GID: 2001, Comment: "alice@node"}
	a, err := c.GenerateKeypair(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.GenerateKeypair(ctx, spec)
	if a != b || a.PrivatePath != "/home/alice/.ssh/id_ed25519" {
		t.Errorf("%+v vs %+v", a, b)
	}
	spec.Overwrite = true
	if c2, _ := c.GenerateKeypair(ctx, spec); c2.Fingerprint == a.Fingerprint {
		t.Error("overwrite kept the key")
	}
}
