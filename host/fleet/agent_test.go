package fleet

import (
	"context"
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
	nodes[1].kill()
	nodes[1].start()
	waitUntil(t, "a restarted replica gives the bucket its feed back", 20*time.Second, republished)
	converged("bob")
}
