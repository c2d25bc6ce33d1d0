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
// host with --nats-url does); the time is the fleet call's, from its write
// to the last agent's status.
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
	fmt.Printf("%-44s %10s %10s\n", "one change converging on", "median", "p90")
	fmt.Printf("%-44s %10s %10s\n", "1 agent", one[0].Round(time.Millisecond), one[1].Round(time.Millisecond))
	fmt.Printf("%-44s %10s %10s   %.2fx (goal <= 2x)\n", "50 agents (one process, fake plugins)",
		many[0].Round(time.Millisecond), many[1].Round(time.Millisecond), float64(many[0])/float64(one[0]))
}

// benchAgents joins k agents labelled group=name, then times rounds
// creates placed on them; it returns the median and p90.
func benchAgents(t *testing.T, via *testNode, url, name string, k int) [2]time.Duration {
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
	const rounds = 9
	var took []time.Duration
	for i := range rounds {
		began := time.Now()
		res, err := via.svc.FleetUserCreate(ctx, core.CreateSpec{Name: fmt.Sprintf("%s%d", name, i)}, "group="+name, 30*time.Second)
		if err != nil || res.Failed != 0 || len(res.Rows) != k {
			t.Fatalf("round %d: %v %s", i, err, rows(res))
		}
		took = append(took, time.Since(began))
		if os.Getenv("HC_BENCH_ROWS") != "" {
			var ts []float64
			for _, r := range res.Rows {
				ts = append(ts, r.TookMS)
			}
			slices.Sort(ts)
			fmt.Printf("round %d: rows took min %.0fms median %.0fms max %.0fms\n", i, ts[0], ts[len(ts)/2], ts[len(ts)-1])
		}
	}
	slices.Sort(took)
	return [2]time.Duration{took[rounds/2], took[rounds*9/10]}
}
