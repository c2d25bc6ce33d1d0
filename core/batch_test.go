package core_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestBatchRollsBackAtAccountStep fails the batch's account step before
// and after the accounts plugin's call: every user fails naming the step,
// and nothing of any is left.
func TestBatchRollsBackAtAccountStep(t *testing.T) {
	for _, point := range []string{"create.batch.account.before", "create.batch.account.after"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			s, f, st := newUserService(t)
			defer core.SetFailpointHook(func(n string) error {
				if n == point {
					return core.Errorf(core.Internal, "injected")
				}
				return nil
			})()
			out, err := s.UserCreateBatch(ctx, batchSpecs(3), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out {
				if e := core.AsError(o.Err); e == nil || e.Step != "account" {
					t.Errorf("%s: %v does not name the account step", o.Name, o.Err)
				}
				if _, err := f.a.GetUser(ctx, o.Name); err == nil {
					t.Errorf("account %s left behind", o.Name)
				}
			}
			assertNoJournal(t, st)
		})
	}
}

// TestRecoverRollsBackBatch: a crash of a batch after its accounts were
// made, and one after its homes were, are rolled back whole by the next
// start: each user of the batch is either complete or absent. (A crash
// inside the workers' steps is the integration tests' part: a panic there
// cannot stand in for one.)
func TestRecoverRollsBackBatch(t *testing.T) {
	for _, point := range []string{"create.batch.account.after", "create.sync.before"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			s, f, st := newUserService(t)
			restore := core.SetFailpointHook(func(n string) error {
				if n == point {
					panic("crash")
				}
				return nil
			})
			func() {
				defer func() { _ = recover() }()
				_, _ = s.UserCreateBatch(ctx, batchSpecs(3), nil)
			}()
			restore()
			if _, err := core.NewService(st, core.WithPlugins(f)).Recover(ctx); err != nil {
				t.Fatal(err)
			}
			for _, sp := range batchSpecs(3) {
				_, uerr := s.UserGet(ctx, sp.Name)
				_, aerr := f.a.GetUser(ctx, sp.Name)
				_, verr := f.v.GetUsage(ctx, "/home/"+sp.Name)
				if uerr == nil && (aerr != nil || verr != nil) || uerr != nil && (aerr == nil || verr == nil) {
					t.Errorf("%s is half there: record %v, account %v, volume %v", sp.Name, uerr, aerr, verr)
				}
			}
			assertNoJournal(t, st)
		})
	}
}

func batchSpecs(n int) []core.CreateSpec {
	out := make([]core.CreateSpec, n)
	for i := range out {
		out[i] = core.CreateSpec{Name: fmt.Sprintf("bu%d", i)}
	}
	return out
}

// TestReconcileReportsUnfinished: a create whose rollback cannot finish
// (the accounts plugin refuses the delete) stays journaled, and reconcile
// names it until recovery ends it.
func TestReconcileReportsUnfinished(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	f.a.Fail("DeleteUser", core.Errorf(core.Unavailable, "plugin restarting"))
	defer core.SetFailpointHook(func(n string) error {
		if n == "create.volume.before" {
			return core.Errorf(core.Internal, "injected")
		}
		return nil
	})()
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "nell"}); err == nil {
		t.Fatal("create succeeded")
	}
	drift, err := s.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range drift {
		found = found || d.User == "nell" && strings.Contains(d.Detail, "interrupted create")
	}
	if !found {
		t.Fatalf("reconcile does not name the unfinished create: %+v", drift)
	}
	f.a.Fail("DeleteUser", nil)
	if !s.RecoverPass(ctx) {
		t.Fatal("recovery did not end the create")
	}
	if drift, _ := s.Reconcile(ctx); len(drift) != 0 {
		t.Errorf("drift after recovery: %+v", drift)
	}
}
