package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestAgentsConverge drives a three-node fleet through a user's life: a
// create applied everywhere with one uid and one keypair, a change while
// a node is down (reported as no answer, then converged by the node
// itself when it is back), and a delete.
func TestAgentsConverge(t *testing.T) {
	nodes := fleetOf(t, "n1", "n2", "n3")
	ctx := context.Background()
	res, err := nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "alice", SSHKeys: []string{aliceKey}, QuotaBytes: 1 << 30}, "", 20*time.Second)
	if err != nil || res.Failed != 0 || len(res.Rows) != 3 {
		t.Fatalf("create: %v %s", err, rows(res))
	}
	var uid int
	for _, n := range nodes {
		u, err := n.svc.UserGet(ctx, "alice")
		if err != nil || !u.Fleet || u.PublicKey != res.PublicKey {
			t.Fatalf("%s: %+v %v (want the fleet's key %q)", n.name, u, err, res.PublicKey)
		}
		if uid == 0 {
			uid = u.UID
		} else if u.UID != uid {
			t.Errorf("%s: uid %d, another node has %d", n.name, u.UID, uid)
		}
	}
	if calls := nodes[0].svc.FleetRecentCalls(); len(calls) != 1 || calls[0].Object != "user/alice" || len(calls[0].Rows) != 3 {
		t.Errorf("the last fleet calls: %+v", calls)
	}
	if err := nodes[1].svc.UserDelete(ctx, "alice", false); !core.IsCode(err, core.FailedPrecondition) {
		t.Errorf("a local delete of a fleet user: %v, want FailedPrecondition with a hint", err)
	}
	nodes[2].kill()
	res, err = nodes[0].svc.FleetUserQuotaSet(ctx, "alice", 2<<30, 2*time.Second)
	if err != nil || res.Failed != 1 {
		t.Fatalf("quota with n3 down: %v %s", err, rows(res))
	}
	for _, r := range res.Rows {
		if (r.Node == "n3") != (r.Outcome == core.FleetNoAnswer) {
			t.Errorf("row %+v", r)
		}
	}
	nodes[2].start()
	waitUntil(t, "n3 converges by itself", 15*time.Second, func() bool {
		u, err := nodes[2].svc.UserGet(ctx, "alice")
		return err == nil && u.QuotaBytes == 2<<30
	})
	res, err = nodes[1].svc.FleetUserDelete(ctx, "alice", false, 20*time.Second)
	if err != nil || res.Failed != 0 || len(res.Rows) != 3 {
		t.Fatalf("delete: %v %s", err, rows(res))
	}
	for _, n := range nodes {
		if _, err := n.svc.UserGet(ctx, "alice"); !core.IsCode(err, core.NotFound) {
			t.Errorf("%s still has alice: %v", n.name, err)
		}
	}
}
