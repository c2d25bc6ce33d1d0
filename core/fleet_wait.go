package core

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// everyNode places an object on every node (a fleet group).
func everyNode(map[string]string) bool { return true }

// noNode places an object nowhere (a tombstone).
func noNode(map[string]string) bool { return false }

// nodeWatch follows one object's statuses from before a write (so a fast
// node's answer, written before the write call returns, is not missed)
// until fleetWait has them all or gives up.
type nodeWatch struct {
	object   string
	statuses <-chan NodeStatus
	stop     context.CancelFunc
}

// watchNodes starts following object's statuses; the caller writes, then
// calls fleetWait, or stop when the write failed.
func (s *Service) watchNodes(ctx context.Context, f FleetBackend, object string) (*nodeWatch, error) {
	wctx, stop := context.WithCancel(ctx)
	ch, err := f.WatchStatuses(wctx, object)
	if err != nil {
		stop()
		return nil, err
	}
	return &nodeWatch{object: object, statuses: ch, stop: stop}, nil
}

// storeGrace is how long a call that has every node's answer waits for
// the store to confirm storing them: an instant, but for a status stream
// between leaders, which may take seconds to elect one.
const storeGrace = time.Second

// fleetWait waits, up to wait, for the status of the watched object at
// revision rev (or later) from every node of targets (fleetTargets, taken
// before the write). Each gets one row, from the node's answer as it
// published it, its took counted from sent, when the write was sent (a
// near node answers before the write's acknowledgement is back); a node
// silent until the end gets "no answer within <wait>". With every answer in, the call returns once the store has
// stored them (so the next call, reading the statuses, finds them), or
// storeGrace later.
func (s *Service) fleetWait(ctx context.Context, w *nodeWatch, rev uint64, sent time.Time, targets map[string]bool, wait time.Duration) FleetResult {
	defer w.stop()
	res := FleetResult{Object: w.object, Revision: rev, Rows: []FleetRow{}}
	if wait <= 0 {
		wait = DefaultFleetWait
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	got, stored := map[string]FleetRow{}, map[string]bool{}
	var grace <-chan time.Time
waiting:
	for len(got) < len(targets) || len(stored) < len(got) {
		if len(got) == len(targets) && grace == nil {
			t := time.NewTimer(storeGrace)
			defer t.Stop()
			grace = t.C
		}
		select {
		case <-ctx.Done():
			break waiting
		case <-timeout.C:
			break waiting
		case <-grace:
			break waiting
		case st := <-w.statuses:
			if !targets[st.Node] || st.Revision < rev {
				continue
			}
			if _, seen := got[st.Node]; !seen {
				got[st.Node] = FleetRow{Node: st.Node, Outcome: st.Outcome, Error: st.Error,
					TookMS: float64(time.Since(sent).Microseconds()) / 1000}
			}
			if !st.Unconfirmed {
				stored[st.Node] = true
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(targets)) {
		row, ok := got[n]
		if !ok {
			row = FleetRow{Node: n, Outcome: FleetNoAnswer, Error: fmt.Sprintf("no answer within %s", wait),
				TookMS: float64(time.Since(sent).Microseconds()) / 1000}
		}
		if row.Outcome != FleetOK && row.Outcome != FleetRemoved {
			res.Failed++
		}
		res.Rows = append(res.Rows, row)
	}
	s.calls.add(FleetCall{At: s.now().UTC(), FleetResult: res})
	return res
}

// FleetCall is one fleet call's result as it ended, for the dashboard's
// list of the last calls.
type FleetCall struct {
	At time.Time `json:"at"`
	FleetResult
}

// keptCalls bounds the fleet calls FleetRecentCalls remembers.
const keptCalls = 50

// fleetCalls keeps this host's last fleet calls in memory.
type fleetCalls struct {
	mu    sync.Mutex
	calls []FleetCall
}

func (c *fleetCalls) add(fc FleetCall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fc)
	if len(c.calls) > keptCalls {
		c.calls = slices.Clone(c.calls[len(c.calls)-keptCalls:])
	}
}

// FleetRecentCalls returns the last fleet calls made through this host,
// newest first, each with its per-node rows.
func (s *Service) FleetRecentCalls() []FleetCall {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	out := slices.Clone(s.calls.calls)
	slices.Reverse(out)
	return out
}

// fleetTargets lists the nodes a change of object concerns: the members
// it is placed on after the change, and those whose last status says they
// carry it or tried to (they must remove it, or answer for it). The list
// of statuses may come from a replica a step behind; a member the object
// was placed on before the change (before: nil for none) whose status the
// list lacks is asked for it from the store's leader.
func (s *Service) fleetTargets(ctx context.Context, f FleetBackend, object string, placed, before func(map[string]string) bool) (map[string]bool, error) {
	members, err := f.Members(ctx)
	if err != nil {
		return nil, err
	}
	sts, err := f.Statuses(ctx, object)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, st := range sts {
		listed[st.Node] = true
	}
	targets := map[string]bool{}
	isMember := map[string]bool{}
	for _, m := range members {
		if m.ID == "" {
			continue // registered with node-add, not joined yet
		}
		isMember[m.Name] = true
		if placed(m.Labels) {
			targets[m.Name] = true
		} else if before != nil && before(m.Labels) && !listed[m.Name] {
			st, err := f.Status(ctx, object, m.Name)
			if err == nil {
				sts = append(sts, st)
			} else if !IsCode(err, NotFound) {
				return nil, err
			}
		}
	}
	for _, st := range sts {
		switch st.Outcome {
		case FleetOK, FleetError, FleetClash:
			if isMember[st.Node] {
				targets[st.Node] = true
			}
		}
	}
	return targets, nil
}
