package accountsgrpc_test

import (
	"context"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts/accountsgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"google.golang.org/grpc"
)

// client serves a Fake through the real adapters and returns the client.
func client(t *testing.T) (accounts.Accounts, *accounts.Fake) {
	fake := accounts.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { accountsgrpc.Concern.Serve(s, fake) })
	return accountsgrpc.NewClient(conn), fake
}

func TestUserLifecycleRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t)
	mustGroup(t, c, "codescalers")
	mustGroup(t, c, "dev")
	spec := accounts.UserSpec{Name: "alice", UID: 2001, Groups: []string{"dev"}, Shell: "/bin/bash",
		Home: "/home/alice", GECOS: "Alice", MarkerGroup: "codescalers"}
	u, err := c.CreateUser(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := accounts.User{Name: "alice", UID: 2001, GID: 2001, Home: "/home/alice", Shell: "/bin/bash",
		Groups: []string{"codescalers", "dev"}, GECOS: "Alice"}
	if !equalUser(u, want) {
		t.Fatalf("created %+v, want %+v", u, want)
	}
	if again, err := c.CreateUser(ctx, spec); err != nil || again.UID != 2001 {
		t.Fatalf("second create: %+v %v", again, err)
	}
	if _, err := c.CreateUser(ctx, accounts.UserSpec{Name: "alice", UID: 7}); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("different alice: %v, want already_exists", err)
	}
	if err := c.LockUser(ctx, "alice", "codescalers"); err != nil {
		t.Fatal(err)
	}
	if u, _ := c.GetUser(ctx, "alice"); !u.Locked {
		t.Error("not locked")
	}
	if u, err := c.SetUserGroups(ctx, "alice", nil, "codescalers"); err != nil || !slices.Equal(u.Groups, []string{"codescalers"}) {
		t.Errorf("SetUserGroups: %+v %v", u, err)
	}
	for range 2 {
		if err := c.DeleteUser(ctx, "alice", accounts.DeleteOptions{MarkerGroup: "codescalers"}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if _, err := c.GetUser(ctx, "alice"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("get after delete: %v", err)
	}
}

func TestMarkerGroupProtectsOtherAccounts(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t)
	mustGroup(t, c, "codescalers")
	if _, err := c.CreateUser(ctx, accounts.UserSpec{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	err := c.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "codescalers"})
	if !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of unmanaged bob: %v, want permission_denied", err)
	}
}

func TestBadInputIsInvalidArgument(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t)
	for _, name := range []string{"", "-rf", "../x", "a/b", "a\nb", "a:b", "abcdefghijklmnopqrstuvwxyz0123456"} {
		if _, err := c.CreateUser(ctx, accounts.UserSpec{Name: name}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("CreateUser(%q): %v", name, err)
		}
		if _, err := c.GetGroup(ctx, name); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("GetGroup(%q): %v", name, err)
		}
	}
	if _, err := c.CreateUser(ctx, accounts.UserSpec{Name: "ok", Home: "home/ok"}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("relative home: %v", err)
	}
}

func TestBatchKeepsOrderAndPerItemErrors(t *testing.T) {
	c, _ := client(t)
	res, err := c.CreateUsers(context.Background(), []accounts.UserSpec{{Name: "u1"}, {Name: "-rf"}, {Name: "u2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].User.Name != "u1" || res[2].User.Name != "u2" {
		t.Fatalf("results %+v", res)
	}
	if !sdkerr.Is(res[1].Err, sdkerr.InvalidArgument) || res[0].Err != nil {
		t.Errorf("per-item errors: %v %v", res[0].Err, res[1].Err)
	}
	if res[0].User.UID == res[2].User.UID {
		t.Error("batch gave one uid twice")
	}
}

func TestGroupsRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t)
	g, err := c.CreateGroup(ctx, "team", 3000)
	if err != nil || g.GID != 3000 {
		t.Fatalf("%+v %v", g, err)
	}
	if _, err := c.CreateUser(ctx, accounts.UserSpec{Name: "carol"}); err != nil {
		t.Fatal(err)
	}
	if g, err := c.SetGroupMembers(ctx, "team", []string{"carol"}); err != nil || !slices.Equal(g.Members, []string{"carol"}) {
		t.Fatalf("%+v %v", g, err)
	}
	if users, _ := c.ListUsers(ctx, "team"); len(users) != 1 || users[0].Name != "carol" {
		t.Errorf("ListUsers(team) = %+v", users)
	}
	for range 2 {
		if err := c.DeleteGroup(ctx, "team"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnimplementedIsTyped(t *testing.T) {
	conn := grpctest.Conn(t, func(s *grpc.Server) {
		accountsgrpc.Concern.Serve(s, accounts.Unimplemented{})
	})
	_, err := accountsgrpc.NewClient(conn).GetUser(context.Background(), "alice")
	if !sdkerr.Is(err, sdkerr.Unimplemented) {
		t.Errorf("got %v", err)
	}
}

func mustGroup(t *testing.T, c accounts.Accounts, name string) {
	t.Helper()
	if _, err := c.CreateGroup(context.Background(), name, 0); err != nil {
		t.Fatal(err)
	}
}

func equalUser(a, b accounts.User) bool {
	return a.Name == b.Name && a.UID == b.UID && a.GID == b.GID && a.Home == b.Home && a.Shell == b.Shell &&
		slices.Equal(a.Groups, b.Groups) && a.Locked == b.Locked && a.GECOS == b.GECOS
}
