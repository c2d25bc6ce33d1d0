package core

import (
	"context"
	"testing"
	"time"
)

// TestFleetWaitRowsAsPublishedThenStored: a row comes from a node's
// answer as it published it; the call then waits for the store to confirm
// each (so the next call reads them), but only storeGrace once every node
// answered: a status stream between leaders (seconds) must not turn
// answers in hand into "no answer".
func TestFleetWaitRowsAsPublishedThenStored(t *testing.T) {
	s := NewService(nil)
	targets := map[string]bool{"n1": true, "n2": true}
	run := func(wait time.Duration, sts ...NodeStatus) (FleetResult, time.Duration) {
		ch := make(chan NodeStatus, len(sts))
		for _, st := range sts {
			ch <- st
		}
		w := &nodeWatch{object: "user/alice", statuses: ch, stop: func() {}}
		began := time.Now()
		res := s.fleetWait(context.Background(), w, 7, began, targets, wait)
		return res, time.Since(began)
	}
	ok := func(node string, unconfirmed bool) NodeStatus {
		return NodeStatus{Node: node, Object: "user/alice", Revision: 7, Outcome: FleetOK, Unconfirmed: unconfirmed}
	}

	res, took := run(20*time.Second, ok("n1", true), ok("n2", true), ok("n1", false), ok("n2", false))
	if res.Failed != 0 || len(res.Rows) != 2 || took > storeGrace/2 {
		t.Errorf("answers then their storing: %+v after %v, want both ok at once", res, took)
	}
	res, took = run(20*time.Second, ok("n1", true), ok("n2", true))
	if res.Failed != 0 || len(res.Rows) != 2 || took < storeGrace || took > 3*storeGrace {
		t.Errorf("answers never stored: %+v after %v, want both ok after %v", res, took, storeGrace)
	}
	res, took = run(2*time.Second, ok("n1", false))
	if res.Failed != 1 || len(res.Rows) != 2 || res.Rows[1].Outcome != FleetNoAnswer || took < 2*time.Second {
		t.Errorf("n2 silent: %+v after %v, want its no answer at the end of the wait", res, took)
	}
}
