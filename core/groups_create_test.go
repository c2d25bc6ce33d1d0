package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// groupAbsent checks nothing of group name is left: no Linux group, no
// shared volume, no record, no journal.
func groupAbsent(t *testing.T, s *core.Service, f *fakes, st core.Store, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.a.GetGroup(ctx, name); err == nil {
		t.Errorf("Linux group %s left behind", name)
	}
	if _, err := f.v.GetUsage(ctx, "/home/groups/"+name); err == nil {
		t.Errorf("shared volume of %s left behind", name)
	}
	if _, err := s.GroupGet(ctx, name); !core.IsCode(err, core.NotFound) {
		t.Errorf("group %s recorded: %v", name, err)
	}
	assertNoJournal(t, st)
}

// TestGroupCreateRollsBackAtEveryStep fails a shared group's create before
// and after each step: nothing is left and the error names the step.
func TestGroupCreateRollsBackAtEveryStep(t *testing.T) {
	for _, step := range []string{"group", "members", "shared", "record"} {
		for _, when := range []string{"before", "after"} {
			point := "group.create." + step + "." + when
			t.Run(point, func(t *testing.T) {
				ctx := context.Background()
				s, f, st := newUserService(t)
				if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "mia"}); err != nil {
					t.Fatal(err)
				}
				defer core.SetFailpointHook(func(n string) error {
					if n == point {
						return core.Errorf(core.Internal, "injected")
					}
					return nil
				})()
				_, err := s.GroupCreate(ctx, core.Group{Name: "devs", Members: []string{"mia"}, Shared: true})
				if point == "group.create.record.after" {
					// Once recorded the group is complete: only a crash
					// could stop it there, and it would find it whole.
					if _, gerr := s.GroupGet(ctx, "devs"); err != nil || gerr != nil {
						t.Fatalf("create %v, recorded group %v", err, gerr)
					}
					return
				}
				if e := core.AsError(err); e == nil || e.Step != step {
					t.Fatalf("error %v does not name step %s", err, step)
				}
				groupAbsent(t, s, f, st, "devs")
			})
		}
	}
}

// TestRecoverRollsBackGroupCreate: a crash after the shared volume was
// made leaves a journal from which the next start removes the volume and
// the Linux group.
func TestRecoverRollsBackGroupCreate(t *testing.T) {
	ctx := context.Background()
	s, f, st := newUserService(t)
	restore := core.SetFailpointHook(func(n string) error {
		if n == "group.create.record.before" {
			panic("crash")
		}
		return nil
	})
	func() {
		defer func() { _ = recover() }()
		_, _ = s.GroupCreate(ctx, core.Group{Name: "ops", Shared: true})
	}()
	restore()
	if _, err := f.a.GetGroup(ctx, "ops"); err != nil {
		t.Fatalf("setup: the group should exist after the crash: %v", err)
	}
	rec, err := core.NewService(st, core.WithPlugins(f)).Recover(ctx)
	if err != nil || len(rec) != 1 || rec[0].Action != "rolled back" || rec[0].Error != "" {
		t.Fatalf("recover: %+v %v", rec, err)
	}
	groupAbsent(t, s, f, st, "ops")
}

// cancelGrant is a volumes plugin whose CreateVolume succeeds and then
// cancels the caller's context and fails, as a client hanging up mid-call.
type cancelGrant struct {
	*volumes.Fake
	cancel context.CancelFunc
}

func (c cancelGrant) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (volumes.Volume, error) {
	if _, err := c.Fake.CreateVolume(ctx, spec); err != nil {
		return volumes.Volume{}, err
	}
	c.cancel()
	return volumes.Volume{}, sdkerr.Errorf(sdkerr.Unavailable, "connection lost")
}

func (c cancelGrant) DeleteVolume(ctx context.Context, path string) error {
	if err := needLive(ctx); err != nil {
		return err
	}
	return c.Fake.DeleteVolume(ctx, path)
}

// liveAccounts refuses DeleteGroup on a cancelled or deadline-less
// context, as a real plugin call on a dead context would fail.
type liveAccounts struct{ *accounts.Fake }

func (l liveAccounts) DeleteGroup(ctx context.Context, name string) error {
	if err := needLive(ctx); err != nil {
		return err
	}
	return l.Fake.DeleteGroup(ctx, name)
}

func needLive(ctx context.Context) error {
	if ctx.Err() != nil {
		return sdkerr.Errorf(sdkerr.Unavailable, "context: %v", ctx.Err())
	}
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("an undo must run with a deadline of its own")
	}
	return nil
}

// TestGroupCreateUndoOutlivesCancel: the caller's context is cancelled in
// the middle of the shared step; the undo still removes the volume and
// the Linux group, on a context of its own with a deadline.
func TestGroupCreateUndoOutlivesCancel(t *testing.T) {
	s, f, st := newUserService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.vol = cancelGrant{f.v, cancel}
	f.acc = liveAccounts{f.a}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "qa", Shared: true}); err == nil {
		t.Fatal("create succeeded")
	}
	groupAbsent(t, s, f, st, "qa")
}
