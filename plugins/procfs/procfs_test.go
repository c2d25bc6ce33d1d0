package procfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proctest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// scratchGuard judges by a scratch etc: alice (1001) is managed, debian
// (1000) is a person's own account, root and daemon are what they are.
func scratchGuard(t *testing.T) *guard.Guard {
	t.Helper()
	etc := t.TempDir()
	for name, text := range map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\ndaemon:x:1:1::/:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n",
		"group":  "root:x:0:\ncodescalers:x:998:alice,root\ndebian:x:1000:\nalice:x:1001:\n",
	} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return guard.New(policy.Defaults(etc), etc)
}

type users map[string]int

func (u users) UID(name string) (int, bool) { uid, ok := u[name]; return uid, ok }
func (u users) Name(uid int) (string, bool) {
	for n, id := range u {
		if id == uid {
			return n, true
		}
	}
	return "", false
}

func TestInputChecks(t *testing.T) {
	p := New("", scratchGuard(t))
	ctx := context.Background()
	for _, user := range []string{"", "-rf", "../x", "a:b"} {
		if _, err := p.KillUserSessions(ctx, user, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("KillUserSessions(%q): %v", user, err)
		}
		if _, err := p.KillUser(ctx, user, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("KillUser(%q): %v", user, err)
		}
	}
	for _, id := range []string{"", "-1", "a/b", "a:b", "a b"} {
		if err := p.KillSession(ctx, id, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("KillSession(%q): %v", id, err)
		}
	}
	if _, err := p.ListSessions(ctx, "-rf"); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("ListSessions(-rf): %v", err)
	}
}

// TestMissingIsEnded: ending what is not there succeeds.
func TestMissingIsEnded(t *testing.T) {
	p := New("", scratchGuard(t))
	ctx := context.Background()
	if err := p.KillSession(ctx, "p1-0", time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := p.KillUserSessions(ctx, "nosuchuser-hc", time.Second); err != nil || n != 0 {
		t.Fatalf("%d %v", n, err)
	}
	if e, err := p.KillUser(ctx, "nosuchuser-hc", time.Second); err != nil || e.Sessions+e.Processes != 0 {
		t.Fatalf("%+v %v", e, err)
	}
}

// TestRefusesUnmanaged: root, a system account and a person's own account
// are refused by every call, with PermissionDenied naming them, whatever
// the caller asks — before a single process is looked at or signalled.
func TestRefusesUnmanaged(t *testing.T) {
	p := New("", scratchGuard(t))
	p.finder.Proc.Root = t.TempDir() // nothing to find, nothing to signal
	ctx := context.Background()
	for _, user := range []string{"root", "daemon", "debian"} {
		calls := map[string]func() error{
			"ListSessions":     func() error { _, err := p.ListSessions(ctx, user); return err },
			"KillUserSessions": func() error { _, err := p.KillUserSessions(ctx, user, 0); return err },
			"KillUser":         func() error { _, err := p.KillUser(ctx, user, 0); return err },
		}
		for name, call := range calls {
			err := call()
			if !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), `"`+user+`"`) {
				t.Errorf("%s(%s) = %v, want PermissionDenied naming the user", name, user, err)
			}
		}
	}
}

// TestKillSessionOfUnmanaged: a session id that belongs to root is
// refused; ListSessions of everyone leaves root's out.
func TestKillSessionOfUnmanaged(t *testing.T) {
	tr := proctest.New(t)
	tr.Add(proctest.Proc{PID: 300, PPID: 1, SID: 300, Comm: "sshd", Start: 2000, Title: "sshd: root [priv]", Exe: "/usr/sbin/sshd"},
		proctest.Proc{PID: 301, PPID: 300, SID: 300, Comm: "sshd", Start: 2010, Title: "sshd: root@notty", Exe: "/usr/sbin/sshd"},
		proctest.Proc{PID: 302, PPID: 301, SID: 302, Comm: "sleep", Start: 2011})
	p := New("/nonexistent", scratchGuard(t))
	p.finder.Proc = proc.FS{Root: tr.Root}
	p.finder.Self = 999999
	p.finder.Users = users{"root": 0, "alice": 1001}
	err := p.KillSession(context.Background(), "p300-2000", 0)
	if !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), "root") {
		t.Fatalf("KillSession of root's session: %v", err)
	}
	if all, err := p.ListSessions(context.Background(), ""); err != nil || len(all) != 0 {
		t.Fatalf("everyone's sessions list root's: %+v %v", all, err)
	}
}

func TestProbe(t *testing.T) {
	p := New(t.TempDir()+"/utmp", scratchGuard(t))
	p.euid = func() int { return 1000 }
	if r := p.Probe(context.Background()); r.Ready || !strings.Contains(r.Reason, "not root") {
		t.Fatalf("as a user: %+v", r)
	}
	p.euid = func() int { return 0 }
	if r := p.Probe(context.Background()); !r.Ready || !strings.Contains(r.Reason, "no utmp") {
		t.Fatalf("without utmp: %+v", r)
	}
	p.finder.Proc.Root = t.TempDir()
	if r := p.Probe(context.Background()); r.Ready {
		t.Fatalf("without procfs: %+v", r)
	}
}

// TestListFixture maps a discovered session to the contract's type and
// filters by user.
func TestListFixture(t *testing.T) {
	tr := proctest.New(t)
	tr.Add(proctest.Proc{PID: 300, PPID: 1, SID: 300, Comm: "sshd", Start: 2000, Title: "sshd: alice [priv]", Exe: "/usr/sbin/sshd"},
		proctest.Proc{PID: 301, PPID: 300, SID: 300, UID: 1001, Comm: "sshd", Start: 2010, Title: "sshd: alice@notty", Exe: "/usr/sbin/sshd"},
		proctest.Proc{PID: 302, PPID: 301, SID: 302, UID: 1001, Comm: "sleep", Start: 2011})
	p := New("/nonexistent", scratchGuard(t))
	p.finder.Proc = proc.FS{Root: tr.Root}
	p.finder.Self = 999999
	p.finder.Users = users{"root": 0, "alice": 1001, "debian": 1000}
	all, err := p.ListSessions(context.Background(), "")
	if err != nil || len(all) != 1 {
		t.Fatalf("%v %+v", err, all)
	}
	s := all[0]
	if s.ID != "p300-2000" || s.User != "alice" || len(s.PIDs) != 2 || !s.Started.Equal(time.Unix(proctest.Boot+20, 0)) {
		t.Fatalf("got %+v", s)
	}
	if none, err := p.ListSessions(context.Background(), "nobody-at-all"); err != nil || len(none) != 0 {
		t.Fatalf("a name without an account: %v %+v", err, none)
	}
}
