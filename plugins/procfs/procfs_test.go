package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/discover"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestInputChecks(t *testing.T) {
	p := New("")
	ctx := context.Background()
	for _, user := range []string{"", "-rf", "../x", "a:b"} {
		if _, err := p.KillUserSessions(ctx, user, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("KillUserSessions(%q): %v", user, err)
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
	p := New("")
	ctx := context.Background()
	if err := p.KillSession(ctx, "p1-0", time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := p.KillUserSessions(ctx, "nosuchuser-hc", time.Second); err != nil || n != 0 {
		t.Fatalf("%d %v", n, err)
	}
}

func TestProbe(t *testing.T) {
	p := New(t.TempDir() + "/utmp")
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
	tr.Add(proctest.Proc{PID: 300, PPID: 1, SID: 300, Comm: "sshd", Start: 2000, Title: "sshd: root [priv]", Exe: "/usr/sbin/sshd"},
		proctest.Proc{PID: 301, PPID: 300, SID: 300, Comm: "sshd", Start: 2010, Title: "sshd: root@notty", Exe: "/usr/sbin/sshd"},
		proctest.Proc{PID: 302, PPID: 301, SID: 302, Comm: "sleep", Start: 2011})
	p := New("/nonexistent")
	p.finder.Proc = proc.FS{Root: tr.Root}
	p.finder.Self = 999999
	p.finder.Users = discover.System{}
	all, err := p.ListSessions(context.Background(), "")
	if err != nil || len(all) != 1 {
		t.Fatalf("%v %+v", err, all)
	}
	s := all[0]
	if s.ID != "p300-2000" || s.User != "root" || len(s.PIDs) != 3 || !s.Started.Equal(time.Unix(proctest.Boot+20, 0)) {
		t.Fatalf("got %+v", s)
	}
	if none, err := p.ListSessions(context.Background(), "daemon"); err != nil || len(none) != 0 {
		t.Fatalf("daemon's: %v %+v", err, none)
	}
}
