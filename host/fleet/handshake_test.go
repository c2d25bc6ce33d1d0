package fleet

import (
	"context"
	"testing"
	"time"
)

// TestLastReplicaPlaceGivenOnce: two nodes joining at once through two
// replica nodes cannot both be given the fleet's last replica place; the
// claim is in the store, not in the answering node's memory.
func TestLastReplicaPlaceGivenOnce(t *testing.T) {
	nodes := fleetOf(t, "p1", "p2")
	answer := func(n *testNode, name string) string {
		t.Helper()
		rt, err := n.f.running()
		if err != nil {
			t.Fatal(err)
		}
		r := n.f.answerJoin(context.Background(), rt, joinRequest{Name: name, NodeID: "id-" + name}, &joins{pending: map[string]time.Time{}})
		if r.Error != "" {
			t.Fatalf("%s: %s", name, r.Error)
		}
		return r.Role
	}
	if got := answer(nodes[0], "p3"); got != roleReplica {
		t.Fatalf("p3 through p1, with two of three places held: %s", got)
	}
	if got := answer(nodes[1], "p4"); got != roleLeaf {
		t.Errorf("p4 through p2, the last place claimed for p3: %s", got)
	}
	if got := answer(nodes[1], "p3"); got != roleReplica {
		t.Errorf("p3 asking again, through p2: %s", got)
	}
}

// TestPlaceClaimsLapse: a claim not taken up within placeClaim frees its
// place; one taken up (the node is held as a replica) is dropped.
func TestPlaceClaimsLapse(t *testing.T) {
	now := time.Now()
	held := map[string]bool{"a": true, "b": true}
	pending := map[string]time.Time{"c": now.Add(-2 * placeClaim), "b": now}
	if !takePlace(pending, "d", held, 3, now) {
		t.Fatal("a lapsed claim kept its place")
	}
	if _, ok := pending["b"]; ok {
		t.Error("a claim taken up is still pending")
	}
	if takePlace(pending, "e", held, 3, now) {
		t.Error("a fourth place given")
	}
	if !takePlace(pending, "d", held, 3, now) {
		t.Error("d asking again lost its place")
	}
}
