package fleet

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestFeedGapLeftToResync: the feed misses what was published while a
// node was disconnected (or what it dropped). The revisions it delivers
// count as applied only when they follow what was applied; otherwise the
// bucket's last revision stays ahead of appliedSeq and the next resync
// reads the bucket.
func TestFeedGapLeftToResync(t *testing.T) {
	ag := &agent{lastSeq: 10, appliedSeq: 10}
	ag.delivered(12) // 11 was published while this node was away
	if ag.appliedSeq != 10 {
		t.Fatalf("appliedSeq %d after a gap, want 10: the resync would skip revision 11", ag.appliedSeq)
	}
	ag.delivered(11)
	ag.delivered(12)
	if ag.appliedSeq != 12 {
		t.Fatalf("appliedSeq %d after 11 and 12, want 12", ag.appliedSeq)
	}
	ag.delivered(12) // a record handled twice moves nothing
	if ag.appliedSeq != 12 {
		t.Fatalf("appliedSeq %d, want 12", ag.appliedSeq)
	}
}

// TestChangesComeByTheFeed: with resyncs an hour apart, a change reaches
// every node, replicas and a leaf node alike, by the stream's republished
// feed alone. A desired bucket made without the feed (by an earlier
// version) gets it when a replica starts.
func TestChangesComeByTheFeed(t *testing.T) {
	nodes := fleetWith(t, func(n *testNode) { n.resync = time.Hour }, "n1", "n2", "n3", "n4")
	ctx := context.Background()
	converged := func(name string) {
		t.Helper()
		res, err := nodes[3].svc.FleetUserCreate(ctx, core.CreateSpec{Name: name}, "", 10*time.Second)
		if err != nil || res.Failed != 0 || len(res.Rows) != 4 {
			t.Fatalf("create %s: %v %s", name, err, rows(res))
		}
		for _, n := range nodes {
			if _, err := n.svc.UserGet(ctx, name); err != nil {
				t.Errorf("%s: %v", n.name, err)
			}
		}
	}
	converged("alice")

	rt, err := nodes[0].f.running()
	if err != nil {
		t.Fatal(err)
	}
	cfg := configs(3)[0]
	cfg.RePublish = nil
	if _, err := rt.st.js.UpdateKeyValue(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	republished := func() bool {
		kv, err := rt.st.js.KeyValue(ctx, bucketDesired)
		if err != nil {
			return false
		}
		st, err := kv.Status(ctx)
		return err == nil && st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.RePublish != nil
	}
	if republished() {
		t.Fatal("the bucket still republishes after its feed was taken away")
	}
	// The status bucket as an earlier version made it: no feed.
	old := configs(3)[1]
	old.RePublish = nil
	if err := rt.st.js.DeleteKeyValue(ctx, bucketStatus); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.st.js.CreateKeyValue(ctx, old); err != nil {
		t.Fatal(err)
	}
	nodes[1].kill()
	nodes[1].start()
	waitUntil(t, "a restarted replica gives the bucket its feed back", 20*time.Second, republished)
	waitUntil(t, "the status bucket gets its feed", 20*time.Second, func() bool {
		kv, err := rt.st.js.KeyValue(ctx, bucketStatus)
		if err != nil {
			return false
		}
		st, err := kv.Status(ctx)
		if err != nil {
			return false
		}
		cfg := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config
		return cfg.RePublish != nil && cfg.Storage == jetstream.FileStorage
	})
	converged("bob")
}

// TestAPassOnALaggingReplicaIsReadAgain: a node restarted after a change
// it missed (the feed delivers nothing published while it was away) reads
// the bucket in its first pass; when the replica that answers has not
// stored the leader's last write yet (its own, catching up), the pass
// must not count that write as applied: the node reads again soon and
// converges, without waiting for a resync period (an hour here) or a
// further change.
func TestAPassOnALaggingReplicaIsReadAgain(t *testing.T) {
	nodes := fleetWith(t, func(n *testNode) { n.resync = time.Hour }, "n1", "n2", "n3")
	ctx := context.Background()
	n3 := nodes[2]
	n3.kill()
	res, err := nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "bob"}, "", time.Second)
	if err != nil || len(res.Rows) != 3 {
		t.Fatalf("create bob: %v %s", err, rows(res))
	}
	var mu sync.Mutex
	lagged := 0
	n3.tweak = func(f *Fleet) {
		f.listDesired = func(ctx context.Context, st *store) ([]entry, uint64, error) {
			entries, read, err := st.listUpTo(ctx, bucketDesired, ">")
			mu.Lock()
			defer mu.Unlock()
			if err != nil || lagged > 0 {
				return entries, read, err
			}
			// The first pass: a replica that has everything but bob.
			lagged++
			kept := entries[:0]
			for _, e := range entries {
				if e.Key == "user.bob" {
					read = e.Revision - 1
					continue
				}
				kept = append(kept, e)
			}
			return kept, read, nil
		}
	}
	n3.start()
	waitUntil(t, "n3 has bob (its first pass read a replica without him)", 10*time.Second, func() bool {
		_, err := n3.svc.UserGet(ctx, "bob")
		return err == nil
	})
	mu.Lock()
	defer mu.Unlock()
	if lagged != 1 {
		t.Fatalf("the lagging read was not made (%d)", lagged)
	}
}

// TestARowIsAStoredStatus: a fleet call's row says a node applied the
// change; the next call (an edit's targets) reads that status from the
// stream's leader. So a row must come from a status the stream stored,
// not from its publication, which reaches a subscriber first.
func TestARowIsAStoredStatus(t *testing.T) {
	nodes := fleetOf(t, "n1", "n2", "n3")
	ctx := context.Background()
	for i := range 30 {
		name := fmt.Sprintf("u%d", i)
		res, err := nodes[i%3].svc.FleetUserCreate(ctx, core.CreateSpec{Name: name}, "", 10*time.Second)
		if err != nil || res.Failed != 0 || len(res.Rows) != 3 {
			t.Fatalf("create %s: %v %s", name, err, rows(res))
		}
		for _, r := range res.Rows {
			st, err := nodes[(i+1)%3].f.Status(ctx, core.UserObject(name), r.Node)
			if err != nil || st.Revision < res.Revision {
				t.Fatalf("%s's row of %s (revision %d) is not stored at the leader: %+v %v", r.Node, name, res.Revision, st, err)
			}
		}
	}
}

// TestALabelIsReadAsDelivered: a node's new labels come by the feed as
// its record; the pass that follows lists the bucket, maybe from a replica
// that has not stored that record yet. The pass must go by the record as
// delivered: a user placed by the new label is made without waiting for a
// resync period (an hour here) or a further change.
func TestALabelIsReadAsDelivered(t *testing.T) {
	nodes := fleetWith(t, func(n *testNode) { n.resync = time.Hour }, "n1", "n2", "n3")
	ctx := context.Background()
	n3 := nodes[2]
	var mu sync.Mutex
	var old *entry // n3's record before its label, as a lagging replica has it
	armed := false
	n3.kill()
	n3.tweak = func(f *Fleet) {
		f.listDesired = func(ctx context.Context, st *store) ([]entry, uint64, error) {
			entries, read, err := st.listUpTo(ctx, bucketDesired, ">")
			mu.Lock()
			defer mu.Unlock()
			for i, e := range entries {
				switch {
				case err != nil || e.Key != memberKey("n3"):
				case !armed:
					old = &entries[i]
				default:
					armed = false
					read = e.Revision - 1
					entries[i] = *old
				}
			}
			return entries, read, err
		}
	}
	n3.start()
	waitUntil(t, "n3's first pass lists its own record", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return old != nil
	})
	res, err := nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "pia"}, "zone=eu", time.Second)
	if err != nil || len(res.Rows) != 0 {
		t.Fatalf("create pia on zone=eu, no such node yet: %v %s", err, rows(res))
	}
	mu.Lock()
	armed = true
	mu.Unlock()
	if _, err := nodes[0].svc.FleetNodeLabel(ctx, "n3", []string{"zone=eu"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "n3 makes pia once labelled zone=eu", 10*time.Second, func() bool {
		_, err := n3.svc.UserGet(ctx, "pia")
		return err == nil
	})
	mu.Lock()
	defer mu.Unlock()
	if armed {
		t.Fatal("the lagging read was not made")
	}
}

// TestRegisteringGivesUpWithItsContext: a node registering itself while
// the store has no leader waits for one, but no longer than its caller
// allows: the agent's start tries again every two seconds, and one try
// that outlived its deadline by the whole write retry (12 s) had left a
// restarted node silent well after the store was back. (The caller's time
// is up from the start here, which a store without a leader gives as the
// same Unavailable, whatever replica leads.)
func TestRegisteringGivesUpWithItsContext(t *testing.T) {
	nodes := fleetOf(t, "n1", "n2")
	rt, err := nodes[0].f.running()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	began := time.Now()
	err = nodes[0].f.registerSelf(ctx, rt, nil)
	if took := time.Since(began); err == nil || took > time.Second {
		t.Fatalf("registerSelf, its time up: %v after %v, want an error at once", err, took)
	}
}
