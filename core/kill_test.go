package core_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// busyAccounts refuses to delete an account that still runs a process, as
// userdel does (exit 8), and notes when the home went.
type busyAccounts struct {
	*accounts.Fake
	ss *sessions.Fake
}

func (b busyAccounts) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	if n := b.ss.Processes(name); n > 0 {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "user %q is currently used by %d processes", name, n)
	}
	return b.Fake.DeleteUser(ctx, name, opts)
}

// legacySessions is a sessions plugin from before KillUser.
type legacySessions struct{ *sessions.Fake }

func (legacySessions) KillUser(context.Context, string, time.Duration) (sessions.Ended, error) {
	return sessions.Ended{}, sdkerr.Errorf(sdkerr.Unimplemented, "sessions.KillUser is not implemented by this plugin")
}

type strictPlugins struct {
	*fakes
	legacy bool
}

func (p strictPlugins) Accounts() accounts.Accounts { return busyAccounts{p.a, p.ss} }
func (p strictPlugins) Sessions() sessions.Sessions {
	if p.legacy {
		return legacySessions{p.ss}
	}
	return p.ss
}

func strictService(t *testing.T, legacy bool) (*core.Service, *fakes) {
	t.Helper()
	f := &fakes{a: accounts.NewFake(), v: volumes.NewFake(), c: acl.NewFake(), k: sshkeys.NewFake(), ss: sessions.NewFake()}
	f.v.Elsewhere = f.k.Wrote
	return core.NewService(memstore.New(), core.WithPlugins(strictPlugins{fakes: f, legacy: legacy})), f
}

// TestDeleteEndsProcessesOutsideSessions: a user with a session and with
// processes outside any session (a daemon, a stray started with setpriv)
// is deleted: every one of them is ended before the home and the account
// go. A sessions plugin without KillUser ends the session only, and the
// account's delete then fails as userdel does.
func TestDeleteEndsProcessesOutsideSessions(t *testing.T) {
	ctx := context.Background()
	s, f := strictService(t, false)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "eve"}); err != nil {
		t.Fatal(err)
	}
	f.ss.Add(sessions.Session{ID: "7", User: "eve"})
	f.ss.AddProcesses("eve", 3)
	if err := s.UserDelete(ctx, "eve", false); err != nil {
		t.Fatal(err)
	}
	if f.ss.Processes("eve") != 0 || !slices.Equal(f.ss.Killed(), []string{"7"}) || !slices.Equal(f.ss.KilledUsers(), []string{"eve"}) {
		t.Fatalf("left %d processes; sessions ended %v, users %v", f.ss.Processes("eve"), f.ss.Killed(), f.ss.KilledUsers())
	}
	if _, err := f.a.GetUser(ctx, "eve"); err == nil {
		t.Fatal("the account survived")
	}

	old, g := strictService(t, true)
	if _, err := old.UserCreate(ctx, core.CreateSpec{Name: "eve"}); err != nil {
		t.Fatal(err)
	}
	g.ss.AddProcesses("eve", 1)
	if err := old.UserDelete(ctx, "eve", false); err == nil {
		t.Fatal("a plugin without KillUser left a process, yet the account was deleted")
	}
}

// TestLockEndsProcessesOutsideSessions: a lock ends them too.
func TestLockEndsProcessesOutsideSessions(t *testing.T) {
	ctx := context.Background()
	s, f := strictService(t, false)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "fay"}); err != nil {
		t.Fatal(err)
	}
	f.ss.AddProcesses("fay", 2)
	if u, err := s.UserLock(ctx, "fay"); err != nil || u.State != core.UserLocked {
		t.Fatalf("%+v %v", u, err)
	}
	if f.ss.Processes("fay") != 0 {
		t.Fatalf("lock left %d processes", f.ss.Processes("fay"))
	}
}
