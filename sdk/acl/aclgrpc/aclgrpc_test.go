package aclgrpc_test

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/acl/aclgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"google.golang.org/grpc"
)

func client(t *testing.T) (acl.ACL, *acl.Fake) {
	fake := acl.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { aclgrpc.Concern.Serve(s, fake) })
	return aclgrpc.NewClient(conn), fake
}

func TestACLRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)
	path := "/home/alice/hero/var/sockets"
	entries := []acl.Entry{
		{Tag: acl.TagUser, Qualifier: "driver", Perms: "rx"},
		{Tag: acl.TagUser, Qualifier: "driver", Perms: "rwx", Default: true},
		{Tag: acl.TagMask, Perms: "rwx"},
	}
	for range 2 {
		if err := c.Grant(ctx, path, entries, true); err != nil {
			t.Fatal(err)
		}
	}
	l, err := c.Get(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Access) != 2 || len(l.Default) != 1 || l.Access[0].Perms != "r-x" || l.Default[0].Tag != acl.TagUser {
		t.Errorf("got %+v", l)
	}
	for range 2 {
		if err := c.Revoke(ctx, path, entries[:2]); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := c.Get(ctx, path); len(l.Access) != 1 || len(l.Default) != 0 {
		t.Errorf("after revoke %+v", l)
	}
	if err := c.SetOwnership(ctx, "/home/alice", 2001, 2001, 0o755); err != nil {
		t.Fatal(err)
	}
	if o, ok := fake.Ownership("/home/alice"); !ok || o.Mode != 0o755 || o.UID != 2001 {
		t.Errorf("ownership %+v", o)
	}
}

func TestACLBadInput(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t)
	bad := []acl.Entry{
		{Tag: "bogus", Perms: "r"},
		{Tag: acl.TagUser, Perms: "r"},
		{Tag: acl.TagUser, Qualifier: "-rf", Perms: "r"},
		{Tag: acl.TagOther, Qualifier: "x", Perms: "r"},
		{Tag: acl.TagOther, Perms: "rwz"},
		{Tag: acl.TagOther, Perms: "rr"},
	}
	for _, e := range bad {
		if err := c.Grant(ctx, "/tmp/x", []acl.Entry{e}, false); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("Grant(%+v): %v", e, err)
		}
	}
	if err := c.Grant(ctx, "tmp/x", []acl.Entry{{Tag: acl.TagOther, Perms: "r"}}, false); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("relative path: %v", err)
	}
	if err := c.SetOwnership(ctx, "/tmp/x", 0, 0, 0o170000); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("bad mode: %v", err)
	}
}
