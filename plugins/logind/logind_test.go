package logind

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/logind/fakelogind"
	"github.com/threefoldtech/hero_codescalers/plugins/logind/internal/login1"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// fakeBus is the map-backed seam: sessions whose processes vanish on any
// signal they do not ignore.
type fakeBus struct {
	mu       sync.Mutex
	running  bool
	sessions map[string]*fakeSession
	self     string // the session of the plugin's own pid
	calls    []string
}

type fakeSession struct {
	props  login1.Session
	pids   []int
	ignore map[syscall.Signal]bool
}

var errNoSession = sdkerr.Errorf(sdkerr.NotFound, "no such session")

func (f *fakeBus) Running(context.Context) (bool, error) { return f.running, nil }
func (f *fakeBus) Close() error                          { return nil }

func (f *fakeBus) ListSessions(context.Context) ([]login1.SessionRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []login1.SessionRef
	for id, s := range f.sessions {
		out = append(out, login1.SessionRef{ID: id, UID: s.props.UID, User: s.props.User})
	}
	return out, nil
}

func (f *fakeBus) Session(_ context.Context, id string) (login1.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[id]
	if !ok {
		return login1.Session{}, errNoSession
	}
	return s.props, nil
}

func (f *fakeBus) SessionOfPID(context.Context, uint32) (string, error) {
	if f.self == "" {
		return "", errNoSession
	}
	return f.self, nil
}

func (f *fakeBus) UnitPIDs(_ context.Context, unit string) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		if s.props.Scope == unit {
			return append([]int(nil), s.pids...), nil
		}
	}
	return nil, sdkerr.Errorf(sdkerr.NotFound, "no unit")
}

func (f *fakeBus) KillSession(_ context.Context, id, who string, sig syscall.Signal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, id+" "+who+" "+sig.String())
	s, ok := f.sessions[id]
	if !ok {
		return errNoSession
	}
	if sig != syscall.SIGCONT && !s.ignore[sig] {
		s.pids, s.props.State = nil, "closing" // as logind does once the leader is gone
	}
	return nil
}

func (f *fakeBus) TerminateSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, id+" terminate")
	if _, ok := f.sessions[id]; !ok {
		return errNoSession
	}
	return nil
}

func (f *fakeBus) SetUserLinger(_ context.Context, uid uint32, enable bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("linger %d %v", uid, enable))
	return nil
}

func (f *fakeBus) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var now = time.Unix(1_700_000_600, 0)

func newFake() *fakeBus {
	return &fakeBus{running: true, sessions: map[string]*fakeSession{
		"3": {props: login1.Session{ID: "3", User: "alice", UID: 1001, TTY: "pts/0", RemoteHost: "10.0.0.5",
			Scope: "session-3.scope", Leader: 90, State: "active", Started: time.Unix(1_700_000_000, 0),
			IdleSince: time.Unix(1_700_000_500, 0)}, pids: []int{92, 90, 91}},
		"c2": {props: login1.Session{ID: "c2", User: "alice", UID: 1001, Leader: 80, State: "online",
			Started: time.Unix(1_699_999_000, 0)}},
		"7": {props: login1.Session{ID: "7", User: "bob", UID: 1002, Scope: "session-7.scope", Leader: 70,
			Started: time.Unix(1_700_000_100, 0)}, pids: []int{70}},
	}}
}

func plugin(f *fakeBus) *Logind {
	return &Logind{dial: func(context.Context) (bus, error) { return f, nil },
		now: func() time.Time { return now }, self: 4242, killWait: time.Second, guard: testGuard}
}

// testGuard judges by a scratch etc: alice, bob and carol are managed,
// debian is a person's own account.
var testGuard = func() *guard.Guard {
	etc, err := os.MkdirTemp("", "logind-etc-")
	if err != nil {
		panic(err)
	}
	files := map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n" +
			"bob:x:1002:1002::/home/bob:/bin/sh\ncarol:x:1003:1003::/home/carol:/bin/sh\n",
		"group": "root:x:0:\ncodescalers:x:998:alice,bob,carol\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			panic(err)
		}
	}
	return guard.New(policy.Defaults(etc), etc)
}()

// TestRefusesUnmanaged: root's and a person's own sessions are neither
// listed nor signalled, whatever the caller asks.
func TestRefusesUnmanaged(t *testing.T) {
	f := newFake()
	f.sessions["9"] = &fakeSession{props: login1.Session{ID: "9", User: "root", UID: 0, Scope: "session-9.scope", Leader: 1}, pids: []int{1}}
	f.sessions["10"] = &fakeSession{props: login1.Session{ID: "10", User: "debian", UID: 1000, Leader: 77}, pids: []int{77}}
	l := plugin(f)
	ctx := context.Background()
	for _, user := range []string{"root", "debian"} {
		if _, err := l.ListSessions(ctx, user); !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), user) {
			t.Errorf("ListSessions(%s) = %v", user, err)
		}
		if _, err := l.KillUserSessions(ctx, user, 0); !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), user) {
			t.Errorf("KillUserSessions(%s) = %v", user, err)
		}
		if _, err := l.KillUser(ctx, user, 0); !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), user) {
			t.Errorf("KillUser(%s) = %v", user, err)
		}
	}
	for _, id := range []string{"9", "10"} {
		if err := l.KillSession(ctx, id, 0); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("KillSession(%s) = %v", id, err)
		}
	}
	all, err := l.ListSessions(ctx, "")
	if err != nil || len(all) != 3 {
		t.Errorf("everyone's: %+v %v", all, err)
	}
	for _, s := range all {
		if s.User == "root" || s.User == "debian" {
			t.Errorf("listed %s's session %s", s.User, s.ID)
		}
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("signals sent: %q", calls)
	}
}

func TestListMapping(t *testing.T) {
	l := plugin(newFake())
	all, err := l.ListSessions(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range all {
		ids = append(ids, s.ID)
	}
	if !reflect.DeepEqual(ids, []string{"c2", "3", "7"}) {
		t.Fatalf("order %v: by user, then start", ids)
	}
	s := all[1]
	if s.User != "alice" || s.TTY != "pts/0" || s.RemoteHost != "10.0.0.5" || !s.Started.Equal(time.Unix(1_700_000_000, 0)) ||
		s.Idle != 100*time.Second || !reflect.DeepEqual(s.PIDs, []int{90, 91, 92}) {
		t.Fatalf("session 3: %+v", s)
	}
	if c2 := all[0]; !reflect.DeepEqual(c2.PIDs, []int{80}) || c2.Idle != 0 {
		t.Fatalf("a session without a scope shows its leader: %+v", c2)
	}
	bobs, err := l.ListSessions(context.Background(), "bob")
	if err != nil || len(bobs) != 1 || bobs[0].ID != "7" {
		t.Fatalf("bob's: %+v %v", bobs, err)
	}
}

func TestKillPhases(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ignore []syscall.Signal
		want   []string
	}{
		{"hangup", nil, []string{"3 all hangup", "3 all continued"}},
		{"terminate", []syscall.Signal{syscall.SIGHUP},
			[]string{"3 all hangup", "3 all continued", "3 all terminated", "3 all continued"}},
		{"kill", []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM},
			[]string{"3 all hangup", "3 all continued", "3 all terminated", "3 all continued", "3 terminate", "3 all killed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.sessions["3"].ignore = map[syscall.Signal]bool{}
			for _, s := range tc.ignore {
				f.sessions["3"].ignore[s] = true
			}
			grace := 60 * time.Millisecond
			start := time.Now()
			if err := plugin(f).KillSession(context.Background(), "3", grace); err != nil {
				t.Fatal(err)
			}
			if got := f.Calls(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("calls %q, want %q", got, tc.want)
			}
			if tc.name == "kill" && time.Since(start) < grace {
				t.Fatalf("SIGKILL came before the grace period ran out (%v)", time.Since(start))
			}
		})
	}
}

func TestKillSurvivor(t *testing.T) {
	f := newFake()
	f.sessions["3"].ignore = map[syscall.Signal]bool{syscall.SIGHUP: true, syscall.SIGTERM: true, syscall.SIGKILL: true}
	l := plugin(f)
	l.killWait = 50 * time.Millisecond
	if err := l.KillSession(context.Background(), "3", 0); !sdkerr.Is(err, sdkerr.Internal) {
		t.Fatalf("a session that outlives SIGKILL: %v", err)
	}
}

func TestKillMissingAndOwn(t *testing.T) {
	f := newFake()
	l := plugin(f)
	if err := l.KillSession(context.Background(), "99", time.Second); err != nil {
		t.Fatalf("missing session: %v", err)
	}
	f.self = "3"
	if err := l.KillSession(context.Background(), "3", time.Second); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("own session: %v", err)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("signals sent: %q (a missing session is looked up, not signalled)", f.Calls())
	}
}

func TestKillUserSessions(t *testing.T) {
	f := newFake()
	n, err := plugin(f).KillUserSessions(context.Background(), "alice", time.Second)
	if err != nil || n != 2 {
		t.Fatalf("%d %v", n, err)
	}
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "7 ") {
			t.Fatalf("bob's session was signalled: %q", f.Calls())
		}
	}
	if n, err := plugin(f).KillUserSessions(context.Background(), "nobody-here", 0); err != nil || n != 0 {
		t.Fatalf("a user without sessions: %d %v", n, err)
	}
}

func TestInputBeforeBus(t *testing.T) {
	dialed := false
	l := &Logind{dial: func(context.Context) (bus, error) { dialed = true; return nil, errors.New("no") }, now: time.Now}
	ctx := context.Background()
	if _, err := l.KillUserSessions(ctx, "", 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Fatalf("empty user: %v", err)
	}
	if err := l.KillSession(ctx, "a:b", 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Fatalf("bad id: %v", err)
	}
	if _, err := l.ListSessions(ctx, "-x"); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Fatalf("bad user: %v", err)
	}
	if dialed {
		t.Fatal("dialed logind before checking input")
	}
}

func TestProbe(t *testing.T) {
	f := newFake()
	if r := plugin(f).Probe(context.Background()); !r.Ready {
		t.Fatalf("running: %+v", r)
	}
	f.running = false
	if r := plugin(f).Probe(context.Background()); r.Ready || !strings.HasPrefix(r.Reason, "systemd-logind is not running") {
		t.Fatalf("not running: %+v", r)
	}
	l := &Logind{dial: func(context.Context) (bus, error) { return nil, sdkerr.Errorf(sdkerr.Unavailable, "no bus") }, guard: testGuard}
	if r := l.Probe(context.Background()); r.Ready || !strings.HasPrefix(r.Reason, "systemd-logind is not running") {
		t.Fatalf("no bus: %+v", r)
	}
}

// TestThroughDBus runs the plugin's real client against the fake logind
// on a private dbus-daemon.
func TestThroughDBus(t *testing.T) {
	fake := fakelogind.New(&fakelogind.Session{ID: "5", User: "carol", UID: 1003, TTY: "pts/4", State: "active",
		Leader: 600, Timestamp: 1_700_000_000_000_000, IdleSinceHint: 1_700_000_300_000_000, PIDs: []uint32{601, 600}})
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", fakelogind.Start(t, fake))
	l := New(testGuard)
	l.now = func() time.Time { return now }
	ctx := context.Background()
	if r := l.Probe(ctx); !r.Ready {
		t.Fatalf("probe: %+v", r)
	}
	got, err := l.ListSessions(ctx, "carol")
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].PIDs, []int{600, 601}) || got[0].Idle != 300*time.Second {
		t.Fatalf("%+v %v", got, err)
	}
	if n, err := l.KillUserSessions(ctx, "carol", 0); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	if err := l.KillSession(ctx, "5", 0); err != nil {
		t.Fatalf("again: %v", err)
	}
}
