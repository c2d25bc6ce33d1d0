package core_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// slowUsage is a volumes plugin whose usage reads block until released,
// counting how many run at once.
type slowUsage struct {
	*volumes.Fake
	release   chan struct{}
	now, most atomic.Int32
	calls     atomic.Int32
}

func (v *slowUsage) GetUsage(ctx context.Context, path string) (volumes.Volume, error) {
	v.calls.Add(1)
	n := v.now.Add(1)
	for m := v.most.Load(); n > m && !v.most.CompareAndSwap(m, n); m = v.most.Load() {
	}
	<-v.release
	v.now.Add(-1)
	return v.Fake.GetUsage(ctx, path)
}

// TestUsageReadsBounded: however many ask, at most two usage reads run in
// the plugin at once (a read may walk a whole home, and one a caller gave
// up on still runs), and callers asking for one volume share its read.
func TestUsageReadsBounded(t *testing.T) {
	svc, f, _ := newUserService(t)
	slow := &slowUsage{Fake: f.v, release: make(chan struct{})}
	ctx := context.Background()
	names := []string{"ua", "ub", "uc", "ud"}
	for _, n := range names {
		if _, err := svc.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	f.vol = slow
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := svc.UserUsage(ctx, names[i%len(names)]); err != nil {
				t.Error(err)
			}
		})
	}
	// Callers who give up leave their read running, and it still counts.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	answer := make(chan error, 1)
	go func() { _, err := svc.UserUsage(gone, "ua"); answer <- err }()
	select {
	case err := <-answer:
		if !core.IsCode(err, core.Unavailable) {
			t.Errorf("a caller who gave up: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a caller who gave up is still waiting for the plugin")
	}
	for deadline := time.Now().Add(5 * time.Second); slow.now.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no usage read started")
		}
	}
	close(slow.release)
	wg.Wait()
	if most, calls := slow.most.Load(), slow.calls.Load(); most > 2 || calls >= 20 {
		t.Errorf("%d reads at once (want at most 2), %d reads for %d callers of %d volumes", most, calls, 20, len(names))
	}
}

// TestSessionListChecksThePlugin: what the sessions plugin lists is
// checked, not trusted: a session of an account the host does not manage
// (root's), of another user than the one asked for, or without an id is
// not shown, and a time or pid that would not encode is left out.
func TestSessionListChecksThePlugin(t *testing.T) {
	svc, f, _ := newUserService(t)
	ctx := context.Background()
	for _, n := range []string{"alice", "bob"} {
		if _, err := svc.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	f.ss.Add(sessions.Session{ID: "s-root", User: "root"})
	f.ss.Add(sessions.Session{ID: "s-alice", User: "alice", Started: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), Idle: -time.Hour, PIDs: []int{-5, 42}})
	f.ss.Add(sessions.Session{ID: "s-bob", User: "bob"})
	all, err := svc.SessionList(ctx, "")
	if err != nil || len(all) != 2 || all[0].ID != "s-alice" || all[1].ID != "s-bob" {
		t.Fatalf("all: %+v %v", all, err)
	}
	if a := all[0]; !a.Started.IsZero() || a.IdleSecs != 0 || len(a.PIDs) != 1 || a.PIDs[0] != 42 {
		t.Errorf("alice's session as shown: %+v", a)
	}
	if _, err := json.Marshal(all); err != nil {
		t.Errorf("the list does not encode: %v", err)
	}
}
