package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// The in-process fleet the agent tests run: real embedded NATS servers on
// 127.0.0.1, one per node, each with its own state and the sdk's fake
// plugins.

const testSecret = "a fleet passphrase for tests"

// fakes are one node's fake plugins.
type fakes struct {
	a  *accounts.Fake
	v  *volumes.Fake
	c  *acl.Fake
	k  *sshkeys.Fake
	ss *sessions.Fake
}

func (f *fakes) Accounts() accounts.Accounts { return f.a }
func (f *fakes) Volumes() volumes.Volumes    { return f.v }
func (f *fakes) ACL() acl.ACL                { return f.c }
func (f *fakes) SSHKeys() sshkeys.SSHKeys    { return f.k }
func (f *fakes) Sessions() sessions.Sessions { return f.ss }

// All is every concern's fake, in the sdk's order.
func (f *fakes) All() []core.PluginClient {
	return []core.PluginClient{{Name: "accounts", Client: f.a}, {Name: "volumes", Client: f.v},
		{Name: "acl", Client: f.c}, {Name: "sshkeys", Client: f.k}, {Name: "sessions", Client: f.ss}}
}

// testNode is one node of the in-process fleet.
type testNode struct {
	t     testing.TB
	name  string
	dir   string
	ports Ports
	store *memstore.Store
	fk    *fakes
	f     *Fleet
	svc   *core.Service
	stop  context.CancelFunc
	done  chan struct{}
	// resync and announce are the agent's periods (short in tests).
	resync, announce time.Duration
	// tweak, when set, is run on each new Fleet before it runs.
	tweak func(*Fleet)
}

// newTestNode makes a node (not started) with its own state, data dir and
// ports.
func newTestNode(t testing.TB, name string) *testNode {
	t.Helper()
	n := &testNode{t: t, name: name, dir: t.TempDir(), ports: freePorts(t), store: memstore.New(),
		resync: 300 * time.Millisecond, announce: 300 * time.Millisecond}
	n.fk = &fakes{a: accounts.NewFake(), v: volumes.NewFake(), c: acl.NewFake(), k: sshkeys.NewFake(), ss: sessions.NewFake()}
	n.fk.v.Elsewhere = n.fk.k.Wrote
	etc := filepath.Join(n.dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"passwd", "group"} {
		if err := os.WriteFile(filepath.Join(etc, f), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(n.kill)
	return n
}

// start runs the node's fleet component (as the host does) on a fresh
// Fleet over the node's state: a restart keeps the state and data dir.
func (n *testNode) start() *testNode {
	n.t.Helper()
	f, err := New(Options{Store: n.store, DataDir: n.dir, NodeName: n.name, Address: "127.0.0.1", Ports: &n.ports,
		Version: "test", Log: testLog(n.t).With("node", n.name), EtcDir: filepath.Join(n.dir, "etc"),
		ResyncEvery: n.resync, AnnounceEvery: n.announce})
	if err != nil {
		n.t.Fatal(err)
	}
	if n.tweak != nil {
		n.tweak(f)
	}
	n.f = f
	n.svc = core.NewService(n.store, core.WithPlugins(n.fk), core.WithFleet(f), core.WithLogger(testLog(n.t)))
	ctx, cancel := context.WithCancel(context.Background())
	n.stop, n.done = cancel, make(chan struct{})
	go func() { defer close(n.done); _ = f.Run(ctx, n.svc) }()
	return n
}

// kill stops the node's fleet component (its server with it).
func (n *testNode) kill() {
	if n.stop != nil {
		n.stop()
		<-n.done
		n.stop = nil
	}
}

func (n *testNode) leafAddr() string { return hostPort("127.0.0.1", n.ports.Leaf) }

// initFleet makes the first node's fleet.
func (n *testNode) initFleet() {
	n.t.Helper()
	if _, err := n.svc.FleetInit(context.Background(), core.FleetInitSpec{Secret: testSecret}); err != nil {
		n.t.Fatal(err)
	}
}

// join joins n to the fleet through via's leaf port.
func (n *testNode) join(via *testNode, labels map[string]string) core.FleetInfo {
	n.t.Helper()
	info, err := n.svc.FleetJoin(context.Background(), core.FleetJoinSpec{Secret: testSecret, Address: via.leafAddr(), Labels: labels})
	if err != nil {
		n.t.Fatalf("%s joins: %v", n.name, err)
	}
	return info
}

// fleetOf starts k nodes: the first makes the fleet, the others join it.
func fleetOf(t testing.TB, names ...string) []*testNode {
	t.Helper()
	return fleetWith(t, func(*testNode) {}, names...)
}

// fleetWith is fleetOf with setup run on each node before it starts.
func fleetWith(t testing.TB, setup func(*testNode), names ...string) []*testNode {
	t.Helper()
	nodes := make([]*testNode, len(names))
	for i, name := range names {
		nodes[i] = newTestNode(t, name)
		setup(nodes[i])
		nodes[i].start()
		if i == 0 {
			nodes[i].initFleet()
		} else {
			nodes[i].join(nodes[0], nil)
		}
	}
	waitUntil(t, "every node live", 20*time.Second, func() bool {
		list, err := nodes[0].svc.FleetNodes(context.Background())
		if err != nil || len(list) != len(nodes) {
			return false
		}
		for _, n := range list {
			if !n.Live {
				return false
			}
		}
		return true
	})
	return nodes
}

// waitUntil polls cond until it holds, failing after within.
func waitUntil(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rows renders a fleet call's rows for a failure message.
func rows(r core.FleetResult) string {
	var b strings.Builder
	for _, row := range r.Rows {
		b.WriteString(row.Node + ":" + row.Outcome + " " + row.Error + "; ")
	}
	return b.String()
}

const aliceKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"

// runNATS runs a plain NATS server of opts for the test.
func runNATS(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}
