package fleet

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestBenchAgents is issue 11's agents row of `make bench`: one change
// (a user created for every agent) converging on 50 node agents, next to
// the same change on one agent. The agents run in this process, each with
// its own state and fake plugins, as members of a fleet of three embedded
// replicas (they reach the store through a replica's client port, as a
// host with --nats-url does); the time is the convergence's, from the
// call's write to the last agent's status (the rows' took), next to the
// whole call's.
//
//	HC_BENCH=1 go test -count=1 -run TestBenchAgents -v ./host/fleet/
func TestBenchAgents(t *testing.T) {
	if os.Getenv("HC_BENCH") == "" {
		t.Skip("a benchmark: set HC_BENCH=1 (make bench does)")
	}
	replicas := fleetOf(t, "r1", "r2", "r3")
	url := "nats://" + hostPort("127.0.0.1", replicas[0].ports.Client)
	one := benchAgents(t, replicas[0], url, "solo", 1)
	many := benchAgents(t, replicas[0], url, "many", 50)
	fmt.Printf("%-44s %10s %10s %12s\n", "one change converging on", "median", "p90", "whole call")
	fmt.Printf("%-44s %10s %10s %12s\n", "1 agent", ms(one.median), ms(one.p90), ms(one.call))
	fmt.Printf("%-44s %10s %10s %12s\n", "50 agents (one process, fake plugins)", ms(many.median), ms(many.p90), ms(many.call))
	fmt.Printf("%-44s %10.2fx %23.2fx (goal <= 2x)\n", "50 agents / 1 agent", float64(many.median)/float64(one.median),
		float64(many.call)/float64(one.call))
	fmt.Println("(the 50 agents share this machine's cores: each applies the change and writes its status, work a real fleet spreads over 50 machines)")
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

// agentsRow is one row of the agents bench: the convergence's median and
// p90 (from the write to the last agent's status), and the whole call's
// median (the uid's allocation, the targets and the write before).
type agentsRow struct{ median, p90, call time.Duration }

// benchAgents joins k agents labelled group=name, then times rounds
// creates placed on them.
func benchAgents(t *testing.T, via *testNode, url, name string, k int) agentsRow {
	ctx := context.Background()
	for i := range k {
		a := newTestNode(t, fmt.Sprintf("%s%02d", name, i))
		a.resync, a.announce = 3*time.Second, 5*time.Second
		a.start()
		if _, err := a.svc.FleetJoin(ctx, core.FleetJoinSpec{Secret: testSecret, NATSURL: url, Labels: map[string]string{"group": name}}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, fmt.Sprintf("%d agents live", k), 60*time.Second, func() bool {
		list, err := via.svc.FleetNodes(ctx)
		live := 0
		for _, n := range list {
			if n.Live && n.Labels["group"] == name {
				live++
			}
		}
		return err == nil && live == k
	})
	const rounds = 15
	var converged, calls []time.Duration
	for i := range rounds {
		began := time.Now()
		res, err := via.svc.FleetUserCreate(ctx, core.CreateSpec{Name: fmt.Sprintf("%s%d", name, i)}, "group="+name, 30*time.Second)
		if err != nil || res.Failed != 0 || len(res.Rows) != k {
			t.Fatalf("round %d: %v %s", i, err, rows(res))
		}
		calls = append(calls, time.Since(began))
		last := 0.0
		for _, r := range res.Rows {
			last = max(last, r.TookMS)
		}
		converged = append(converged, time.Duration(last*float64(time.Millisecond)))
	}
	slices.Sort(converged)
	slices.Sort(calls)
	return agentsRow{converged[rounds/2], converged[rounds*9/10], calls[rounds/2]}
}
