package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
)

// TestUserLimits: a create with limits applies them through the limits
// plugin and keeps them with the user; user-limits changes them, user.get
// reports what the plugin enforces, and the delete's Forget drops them.
func TestUserLimits(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	f.lim = limits.NewFake()
	want := core.Limits{MilliCPU: 2000, MemoryBytes: 64 << 20}
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice", Limits: want})
	if err != nil {
		t.Fatal(err)
	}
	if u.Limits == nil || *u.Limits != want {
		t.Fatalf("created with limits %+v", u.Limits)
	}
	got, err := s.UserInspect(ctx, "alice")
	if err != nil || got.Installed.Limits == nil || *got.Installed.Limits != want {
		t.Fatalf("inspect: %+v %v", got.Installed, err)
	}
	half := core.Limits{MilliCPU: 500}
	if u, err = s.UserLimitsSet(ctx, "alice", half); err != nil || *u.Limits != half {
		t.Fatalf("set: %+v %v", u.Limits, err)
	}
	if u, err = s.UserLimitsSet(ctx, "alice", core.Limits{}); err != nil || u.Limits != nil {
		t.Fatalf("lifted: %+v %v", u.Limits, err)
	}
	if _, err := s.UserLimitsSet(ctx, "alice", core.Limits{MemoryBytes: 1 << 20}); !core.IsCode(err, core.Invalid) {
		t.Errorf("1M: %v", err)
	}
	if _, err := s.UserLimitsSet(ctx, "alice", want); err != nil {
		t.Fatal(err)
	}
	if err := s.UserDelete(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if f.lim.Len() != 0 {
		t.Errorf("limits left after the delete: %d users", f.lim.Len())
	}
}

// TestUserLimitsWithoutPlugin: a host without a limits plugin creates and
// deletes users as before, and refuses limits with a clear error.
func TestUserLimitsWithoutPlugin(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newUserService(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.UserLimitsSet(ctx, "bob", core.Limits{MilliCPU: 1000})
	if !core.IsCode(err, core.FailedPrecondition) || !errors.Is(err, core.ErrNotServed) {
		t.Errorf("limits without a plugin: %v", err)
	}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "carol", Limits: core.Limits{MemoryBytes: 64 << 20}}); !core.IsCode(err, core.FailedPrecondition) {
		t.Errorf("a create with limits without a plugin: %v", err)
	}
	if _, err := s.UserGet(ctx, "carol"); !core.IsCode(err, core.NotFound) {
		t.Errorf("the failed create left carol: %v", err)
	}
	if err := s.UserDelete(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
}

func TestParseLimits(t *testing.T) {
	for in, want := range map[[2]string]core.Limits{
		{"2", "4G"}:   {MilliCPU: 2000, MemoryBytes: 4 << 30},
		{"1.5", ""}:   {MilliCPU: 1500},
		{"0", "64M"}:  {MemoryBytes: 64 << 20},
		{"", ""}:      {},
		{"0.01", "0"}: {MilliCPU: 10},
	} {
		got, err := core.ParseLimits(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	for _, in := range [][2]string{{"-1", ""}, {"two", ""}, {"1e3", ""}, {"0.001", ""}, {"", "1M"}, {"", "64M1"}, {"", "1000001"}, {"NaN", ""}} {
		if _, err := core.ParseLimits(in[0], in[1]); !core.IsCode(err, core.Invalid) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestApplyFleetUserLimits: a fleet user's limits are part of its desired
// record: the node applies them at create, follows a change, and lifts
// them when the record drops them.
func TestApplyFleetUserLimits(t *testing.T) {
	svc, f, _ := newUserService(t)
	f.lim = limits.NewFake()
	ctx := context.Background()
	d := desired("alice", 2001, 1)
	d.Limits = &core.Limits{MilliCPU: 2000, MemoryBytes: 4 << 30}
	if st := svc.ApplyFleetUser(ctx, nil, d); st.Outcome != core.FleetOK {
		t.Fatalf("create: %+v", st)
	}
	u := alice(t, svc)
	if got := u.Installed.Limits; got == nil || *got != *d.Limits {
		t.Fatalf("after create: enforced %+v", got)
	}
	d.Limits, d.Revision = &core.Limits{MemoryBytes: 1 << 30}, 2
	if st := svc.ApplyFleetUser(ctx, nil, d); st.Outcome != core.FleetOK {
		t.Fatalf("update: %+v", st)
	}
	if got := alice(t, svc).Installed.Limits; got == nil || *got != *d.Limits {
		t.Errorf("after update: enforced %+v", got)
	}
	d.Limits, d.Revision = nil, 3
	if st := svc.ApplyFleetUser(ctx, nil, d); st.Outcome != core.FleetOK {
		t.Fatalf("lifted: %+v", st)
	}
	if u := alice(t, svc); u.Limits != nil || !u.Installed.Limits.IsZero() {
		t.Errorf("after lifting: %+v, enforced %+v", u.Limits, u.Installed.Limits)
	}
	if _, err := svc.UserLimitsSet(ctx, "alice", core.Limits{MilliCPU: 1000}); err == nil {
		t.Error("a local edit of a fleet user's limits was taken")
	}
}

func alice(t *testing.T, svc *core.Service) core.User {
	t.Helper()
	u, err := svc.UserInspect(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestLimitsDrift: limits the machine lost (a reboot empties the cgroup
// filesystem) are drift for reconcile, re-applied by user-reset and by
// ReapplyLimits at the host's start.
func TestLimitsDrift(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	f.lim = limits.NewFake()
	want := core.Limits{MilliCPU: 1000, MemoryBytes: 64 << 20}
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice", Limits: want})
	if err != nil {
		t.Fatal(err)
	}
	lost := func() {
		if _, err := f.lim.Forget(ctx, lifecycle.User{Name: "alice", UID: uint32(u.UID)}); err != nil {
			t.Fatal(err)
		}
	}
	lost()
	drift, err := s.Reconcile(ctx)
	if err != nil || len(drift) != 1 || !strings.Contains(drift[0].Detail, "limits are cpu=none memory=none, the state says cpu=1 memory=64MiB") {
		t.Fatalf("reconcile: %+v %v", drift, err)
	}
	if _, err := s.UserReset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := alice(t, s).Installed.Limits; got == nil || *got != want {
		t.Errorf("after user-reset: %+v", got)
	}
	lost()
	s.ReapplyLimits(ctx)
	if got := alice(t, s).Installed.Limits; got == nil || *got != want {
		t.Errorf("after ReapplyLimits: %+v", got)
	}
}
