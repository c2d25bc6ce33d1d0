package sessionsgrpc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/sessionsgrpc"
	"google.golang.org/grpc"
)

func client(t *testing.T) (sessions.Sessions, *sessions.Fake) {
	fake := sessions.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { sessionsgrpc.Concern.Serve(s, fake) })
	return sessionsgrpc.NewClient(conn), fake
}

func TestSessionsRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)
	started := time.Unix(1700000000, 0)
	fake.Add(sessions.Session{ID: "3", User: "alice", TTY: "pts/0", RemoteHost: "10.0.0.1", Started: started,
		Idle: 90 * time.Second, PIDs: []int{100, 101}})
	fake.Add(sessions.Session{ID: "4", User: "alice"})
	fake.Add(sessions.Session{ID: "5", User: "bob"})
	list, err := c.ListSessions(ctx, "alice")
	if err != nil || len(list) != 2 {
		t.Fatalf("%+v %v", list, err)
	}
	s := list[0]
	if s.ID != "3" || !s.Started.Equal(started) || s.Idle != 90*time.Second || !slices.Equal(s.PIDs, []int{100, 101}) || s.RemoteHost != "10.0.0.1" {
		t.Errorf("got %+v", s)
	}
	for range 2 {
		if err := c.KillSession(ctx, "5", time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.KillUserSessions(ctx, "alice", 0); err != nil || n != 2 {
		t.Errorf("killed %d %v", n, err)
	}
	if all, _ := c.ListSessions(ctx, ""); len(all) != 0 {
		t.Errorf("left %+v", all)
	}
	if got := fake.Killed(); !slices.Equal(got, []string{"5", "3", "4"}) {
		t.Errorf("killed %v", got)
	}
}

func TestEmptyUserIsNeverEveryone(t *testing.T) {
	c, fake := client(t)
	fake.Add(sessions.Session{ID: "1", User: "alice"})
	if _, err := c.KillUserSessions(context.Background(), "", 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("empty user: %v", err)
	}
	for _, id := range []string{"", "-9", "a/b", "a:b"} {
		if err := c.KillSession(context.Background(), id, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("KillSession(%q): %v", id, err)
		}
	}
	if err := c.KillSession(context.Background(), "1", time.Hour); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("hour-long grace: %v", err)
	}
}

// TestKillUserRoundTrip: KillUser ends the sessions and the processes
// outside them, and says how many of each; an empty user is refused
// before the plugin sees it.
func TestKillUserRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)
	fake.Add(sessions.Session{ID: "3", User: "alice"})
	fake.Add(sessions.Session{ID: "5", User: "bob"})
	fake.AddProcesses("alice", 4)
	e, err := c.KillUser(ctx, "alice", time.Second)
	if err != nil || e != (sessions.Ended{Sessions: 1, Processes: 4}) {
		t.Fatalf("%+v %v", e, err)
	}
	if fake.Processes("alice") != 0 || !slices.Equal(fake.KilledUsers(), []string{"alice"}) {
		t.Errorf("left %d, killed %v", fake.Processes("alice"), fake.KilledUsers())
	}
	if _, err := c.KillUser(ctx, "", 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("empty user: %v", err)
	}
	if left, _ := c.ListSessions(ctx, "bob"); len(left) != 1 {
		t.Errorf("bob's session went too: %+v", left)
	}
}
