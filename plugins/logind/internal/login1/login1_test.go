package login1_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/threefoldtech/hero_codescalers/plugins/logind/fakelogind"
	"github.com/threefoldtech/hero_codescalers/plugins/logind/internal/login1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestDecodeSession(t *testing.T) {
	user := struct {
		UID  uint32
		Path dbus.ObjectPath
	}{1001, "/org/freedesktop/login1/user/_1001"}
	p := map[string]dbus.Variant{
		"Id": dbus.MakeVariant("c7"), "Name": dbus.MakeVariant("alice"), "User": dbus.MakeVariant(user),
		"TTY": dbus.MakeVariant("pts/2"), "RemoteHost": dbus.MakeVariant("192.0.2.9"), "Remote": dbus.MakeVariant(true),
		"Scope": dbus.MakeVariant("session-c7.scope"), "Leader": dbus.MakeVariant(uint32(4242)),
		"State": dbus.MakeVariant("active"), "Timestamp": dbus.MakeVariant(uint64(1_700_000_000_123_456)),
		"IdleHint": dbus.MakeVariant(true), "IdleSinceHint": dbus.MakeVariant(uint64(1_700_000_060_000_000)),
		"Unknown": dbus.MakeVariant([]string{"ignored"}),
	}
	s, err := login1.DecodeSession(p)
	if err != nil {
		t.Fatal(err)
	}
	want := login1.Session{ID: "c7", UID: 1001, User: "alice", TTY: "pts/2", RemoteHost: "192.0.2.9", Remote: true,
		Scope: "session-c7.scope", Leader: 4242, State: "active", IdleHint: true,
		Started: time.UnixMicro(1_700_000_000_123_456), IdleSince: time.Unix(1_700_000_060, 0)}
	if s != want {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	p["Leader"] = dbus.MakeVariant("not a number")
	if _, err := login1.DecodeSession(p); err == nil {
		t.Fatal("a mistyped Leader decoded")
	}
	if _, err := login1.DecodeSession(map[string]dbus.Variant{}); err == nil {
		t.Fatal("a session without Id decoded")
	}
}

// TestWire runs the real client against the fake logind on a private
// dbus-daemon: method names, signatures and error names as on the wire.
func TestWire(t *testing.T) {
	fake := fakelogind.New(&fakelogind.Session{ID: "3", User: "alice", UID: 1001, TTY: "pts/0", RemoteHost: "10.1.2.3",
		State: "active", Leader: 500, Timestamp: 1_700_000_000_000_000, PIDs: []uint32{500, 501}})
	fake.AddPID(501, "3")
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", fakelogind.Start(t, fake))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := login1.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := c.Running(ctx); err != nil || !ok {
		t.Fatalf("Running: %v %v", ok, err)
	}
	refs, err := c.ListSessions(ctx)
	if err != nil || len(refs) != 1 || refs[0].ID != "3" || refs[0].User != "alice" || refs[0].UID != 1001 {
		t.Fatalf("ListSessions: %+v %v", refs, err)
	}
	s, err := c.Session(ctx, "3")
	if err != nil || s.TTY != "pts/0" || s.RemoteHost != "10.1.2.3" || s.Scope != "session-3.scope" || s.UID != 1001 {
		t.Fatalf("Session: %+v %v", s, err)
	}
	if pids, err := c.UnitPIDs(ctx, s.Scope); err != nil || len(pids) != 2 {
		t.Fatalf("UnitPIDs: %v %v", pids, err)
	}
	if id, err := c.SessionOfPID(ctx, 501); err != nil || id != "3" {
		t.Fatalf("SessionOfPID: %q %v", id, err)
	}
	if _, err := c.SessionOfPID(ctx, 1); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Fatalf("SessionOfPID of a pid outside sessions: %v", err)
	}
	if _, err := c.Session(ctx, "nope"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Fatalf("Session of a missing id: %v", err)
	}
	if _, err := c.UnitPIDs(ctx, "session-nope.scope"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Fatalf("UnitPIDs of a missing unit: %v", err)
	}
	if err := c.KillSession(ctx, "3", "all", syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := c.TerminateSession(ctx, "3"); err != nil {
		t.Fatal(err)
	}
	if err := c.KillSession(ctx, "3", "all", syscall.SIGKILL); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Fatalf("KillSession after the session ended: %v", err)
	}
	calls := fake.Calls()
	if len(calls) != 3 || calls[0] != (fakelogind.Call{Method: "KillSession", ID: "3", Who: "all", Signal: int32(syscall.SIGHUP)}) {
		t.Fatalf("calls %+v", calls)
	}
}

// TestNoLogind: a bus without logind, and no bus at all, are Unavailable.
func TestNoLogind(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", fakelogind.Bus(t))
	ctx := context.Background()
	c, err := login1.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := c.Running(ctx); err != nil || ok {
		t.Fatalf("Running on a bus without logind: %v %v", ok, err)
	}
	if _, err := c.ListSessions(ctx); !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Fatalf("ListSessions without logind: %v", err)
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+t.TempDir()+"/none")
	if _, err := login1.Dial(ctx); !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Fatalf("Dial without a bus: %v", err)
	}
}

func TestMapErrorCodes(t *testing.T) {
	for name, want := range map[string]sdkerr.Code{
		"org.freedesktop.login1.NoSuchSession":      sdkerr.NotFound,
		"org.freedesktop.DBus.Error.ServiceUnknown": sdkerr.Unavailable,
		"org.freedesktop.DBus.Error.AccessDenied":   sdkerr.PermissionDenied,
		"org.freedesktop.DBus.Error.InvalidArgs":    sdkerr.Internal,
		"org.example.Something.Else":                sdkerr.Internal,
	} {
		err := login1.MapError(dbus.Error{Name: name, Body: []any{"msg"}}, "Call")
		if got := sdkerr.CodeOf(err); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if got := sdkerr.CodeOf(login1.MapError(dbus.ErrClosed, "Call")); got != sdkerr.Unavailable {
		t.Errorf("closed connection: %s", got)
	}
	if got := sdkerr.CodeOf(login1.MapError(errors.New("odd"), "Call")); got != sdkerr.Internal {
		t.Errorf("other: %s", got)
	}
}
