package core

import (
	"context"
	"maps"
	"slices"
	"testing"
)

// staleFleet lists no status (a replica a step behind) while its leader
// knows each node's.
type staleFleet struct {
	FleetBackend // nil: any other method panics
	members      []Member
	leader       map[string]NodeStatus
	asked        []string
}

func (f *staleFleet) Members(context.Context) ([]Member, error)              { return f.members, nil }
func (f *staleFleet) Statuses(context.Context, string) ([]NodeStatus, error) { return nil, nil }
func (f *staleFleet) Status(_ context.Context, _ string, node string) (NodeStatus, error) {
	f.asked = append(f.asked, node)
	if st, ok := f.leader[node]; ok {
		return st, nil
	}
	return NodeStatus{}, &Error{Code: NotFound, Message: "no status"}
}

// TestTargetsOfAnEditReadTheLeader: a user moved off zone=eu right after
// its create is still waited for on the eu nodes that carry it, though the
// list of statuses does not show them yet; an eu node that reported a
// conflict (it has a local account of that name) is not; nodes the user
// was never placed on are not asked.
func TestTargetsOfAnEditReadTheLeader(t *testing.T) {
	eu := map[string]string{"zone": "eu"}
	f := &staleFleet{
		members: []Member{{Name: "n1", ID: "1"}, {Name: "n2", ID: "2", Labels: eu}, {Name: "n3", ID: "3"}, {Name: "n4", ID: "4", Labels: eu}},
		leader: map[string]NodeStatus{
			"n2": {Node: "n2", Object: "user/pia", Revision: 3, Outcome: FleetOK},
			"n4": {Node: "n4", Object: "user/pia", Revision: 3, Outcome: FleetConflict},
		},
	}
	before := FleetUser{Name: "pia", Placement: "zone=eu"}
	after := FleetUser{Name: "pia", Placement: "zone!=eu"}
	targets, err := (&Service{}).fleetTargets(context.Background(), f, "user/pia", after.Placed, before.Placed)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(targets)); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
		t.Errorf("targets %v, want n1 n2 n3 (n2 carries pia, n4 has its own)", got)
	}
	if slices.Sort(f.asked); !slices.Equal(f.asked, []string{"n2", "n4"}) {
		t.Errorf("asked the leader for %v, want n2 n4 only", f.asked)
	}
}
