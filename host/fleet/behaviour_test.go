package fleet

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// TestFleetBehaviour runs one fleet of three replicas and a leaf node
// through what the agents must do beyond a user's plain life.
func TestFleetBehaviour(t *testing.T) {
	nodes := fleetOf(t, "n1", "n2", "n3", "n4")
	ctx := context.Background()
	if info := nodes[3].f.Info(ctx); info.Role != roleLeaf {
		t.Fatalf("the fourth node joined as %q, want a leaf node", info.Role)
	}
	t.Run("placement follows labels", func(t *testing.T) { placement(t, nodes) })
	t.Run("a conflict is reported, not overwritten", func(t *testing.T) { conflict(t, nodes) })
	t.Run("an unsealed value is refused by every node", func(t *testing.T) { unsealed(t, nodes) })
	t.Run("sessions are asked of every node", func(t *testing.T) { sessionsAsked(t, nodes) })
	t.Run("a fleet group and its members, one gid", func(t *testing.T) { fleetGroups(t, nodes) })
	t.Run("one id fleet-wide under contention, uids and gids", func(t *testing.T) { idContention(t, nodes) })
	t.Run("each node's view of the ids follows the store", func(t *testing.T) { idsFollow(t, nodes) })
	t.Run("two creates of one name keep the winner's uid", func(t *testing.T) { twinCreates(t, nodes) })
	t.Run("an orphaned reservation is taken over by its name", func(t *testing.T) { orphans(t, nodes) })
	t.Run("a second node of a taken name is refused", func(t *testing.T) { nameTaken(t, nodes) })
	t.Run("a wrong secret gets nothing", func(t *testing.T) { wrongSecret(t, nodes) })
	t.Run("an evicted node leaves, keeping its accounts", func(t *testing.T) { evicted(t, nodes) })
}

func placement(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	if _, err := nodes[0].svc.FleetNodeLabel(ctx, "n2", []string{"zone=eu"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[0].svc.FleetNodeLabel(ctx, "n4", []string{"zone=eu"}); err != nil {
		t.Fatal(err)
	}
	res, err := nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "pia", SSHKeys: []string{aliceKey}}, "zone=eu", 15*time.Second)
	if err != nil || res.Failed != 0 || !sameRows(res, "n2", "n4") {
		t.Fatalf("create on zone=eu: %v %s", err, rows(res))
	}
	for _, n := range nodes {
		_, err := n.svc.UserGet(ctx, "pia")
		if has := err == nil; has != (n.name == "n2" || n.name == "n4") {
			t.Errorf("%s has pia: %v", n.name, has)
		}
	}
	res, err = nodes[1].svc.FleetUserPlace(ctx, "pia", "zone!=eu", 15*time.Second)
	if err != nil || res.Failed != 0 || !sameRows(res, "n1", "n2", "n3", "n4") {
		t.Fatalf("place away from zone=eu: %v %s", err, rows(res))
	}
	for _, r := range res.Rows {
		if want := map[bool]string{true: core.FleetRemoved, false: core.FleetOK}[r.Node == "n2" || r.Node == "n4"]; r.Outcome != want {
			t.Errorf("row %+v, want %s", r, want)
		}
	}
	if _, err := nodes[0].svc.FleetNodeLabel(ctx, "n4", []string{"zone-"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "n4 takes pia once its label is gone", 10*time.Second, func() bool {
		_, err := nodes[3].svc.UserGet(ctx, "pia")
		return err == nil
	})
	waitUntil(t, "every node converged", 10*time.Second, func() bool {
		list, err := nodes[0].svc.FleetNodes(ctx)
		return err == nil && !slices.ContainsFunc(list, func(n core.Node) bool { return !n.Converged })
	})
}

func sameRows(res core.FleetResult, want ...string) bool {
	var got []string
	for _, r := range res.Rows {
		got = append(got, r.Node)
	}
	return slices.Equal(got, want)
}

func conflict(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	if _, err := nodes[1].fk.a.CreateUser(ctx, accounts.UserSpec{Name: "bob", UID: 4242, Home: "/home/bob"}); err != nil {
		t.Fatal(err)
	}
	res, err := nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "bob"}, "", 15*time.Second)
	if err != nil || res.Failed != 1 {
		t.Fatalf("bob: %v %s", err, rows(res))
	}
	for _, r := range res.Rows {
		if (r.Node == "n2") != (r.Outcome == core.FleetConflict) {
			t.Errorf("row %+v", r)
		}
	}
	if u, _ := nodes[1].fk.a.GetUser(ctx, "bob"); u.UID != 4242 || res.UID == 4242 {
		t.Errorf("n2's bob %+v; the fleet's uid %d", u, res.UID)
	}
	if res, err := nodes[0].svc.FleetUserDelete(ctx, "bob", false, 15*time.Second); err != nil || res.Failed != 0 || sameRows(res, "n1", "n2", "n3", "n4") {
		t.Errorf("delete bob (n2 not concerned): %v %s", err, rows(res))
	}
	if u, err := nodes[1].fk.a.GetUser(ctx, "bob"); err != nil || u.UID != 4242 {
		t.Errorf("the fleet's delete touched n2's own bob: %+v %v", u, err)
	}
}

func unsealed(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	rt, err := nodes[0].f.running()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := rt.st.bucket(ctx, bucketDesired)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "user.mallory", []byte(`{"name":"mallory","uid":1234}`)); err != nil {
		t.Fatal(err)
	}
	good, _ := nodes[0].f.User(ctx, "pia")
	moved, _ := kv.Get(ctx, "user.pia")
	if _, err := kv.Put(ctx, "user.trudy", moved.Value()); err != nil { // a valid value moved to another key
		t.Fatal(err)
	}
	for _, obj := range []string{"user/mallory", "user/trudy"} {
		waitUntil(t, "every node refuses "+obj, 10*time.Second, func() bool {
			sts, _ := nodes[0].f.Statuses(ctx, obj)
			n := 0
			for _, st := range sts {
				if st.Outcome == core.FleetError && strings.Contains(st.Error, "refused") {
					n++
				}
			}
			return n == len(nodes)
		})
	}
	for _, n := range nodes {
		for _, name := range []string{"mallory", "trudy"} {
			if _, err := n.fk.a.GetUser(ctx, name); err == nil {
				t.Errorf("%s applied the refused %s", n.name, name)
			}
		}
	}
	if _, err := nodes[0].f.User(ctx, "mallory"); !core.IsCode(err, core.FailedPrecondition) || good.Name != "pia" {
		t.Errorf("reading the unsealed value: %v", err)
	}
	_ = kv.Delete(ctx, "user.mallory")
	_ = kv.Delete(ctx, "user.trudy")
}

func sessionsAsked(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	replies, err := nodes[2].svc.FleetSessions(ctx, "", 5*time.Second)
	if err != nil || len(replies) != len(nodes) {
		t.Fatalf("%+v %v", replies, err)
	}
	for _, r := range replies {
		if r.Error != "" {
			t.Errorf("%+v", r)
		}
	}
	nodes[1].kill()
	defer func() {
		// The tests after this one use n2: they start once it runs again.
		nodes[1].start()
		waitUntil(t, "n2 running again", 30*time.Second, func() bool {
			_, err := nodes[1].f.running()
			return err == nil
		})
	}()
	// A leaf node connected through n2 reconnects through another replica
	// within a few seconds; the question waits that long.
	replies, err = nodes[0].svc.FleetSessions(ctx, "pia", 6*time.Second)
	if err != nil || len(replies) != len(nodes) {
		t.Fatalf("%+v %v", replies, err)
	}
	for _, r := range replies {
		if (r.Node == "n2") != strings.Contains(r.Error, "no answer within 6s") {
			t.Errorf("%+v", r)
		}
	}
	// With n2 silent the question is put again every second; each node
	// acts on it once: a session opened after the kill survives it.
	n1 := nodes[0]
	if _, err := n1.svc.UserGet(ctx, "pia"); err != nil {
		t.Fatalf("n1 lacks pia: %v", err)
	}
	n1.fk.ss.Add(sessions.Session{ID: "s-before", User: "pia"})
	done := make(chan error, 1)
	go func() {
		_, err := n1.svc.FleetSessionKill(ctx, "pia", "", 4*time.Second)
		done <- err
	}()
	waitUntil(t, "the kill reached n1", 5*time.Second, func() bool { return slices.Contains(n1.fk.ss.Killed(), "s-before") })
	n1.fk.ss.Add(sessions.Session{ID: "s-after", User: "pia"})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if slices.Contains(n1.fk.ss.Killed(), "s-after") {
		t.Error("the kill was done again when the question was put again")
	}
	// A question from outside the window (one captured and played again
	// later) is not answered; the same one put now is.
	rt, err := n1.f.running()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at     time.Time
		answer bool
	}{{time.Now().Add(-time.Hour), false}, {time.Now(), true}} {
		data, err := rt.seal.Seal("msg", "ask", askMsg{ID: "replay-" + strconv.FormatBool(tc.answer), At: tc.at, Req: core.FleetRequest{Op: "sessions.list"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = rt.nc.Request(askSubject(rt.m.FleetID), data, time.Second)
		if (err == nil) != tc.answer {
			t.Errorf("a question of %s: answered %v (%v)", tc.at.Format(time.TimeOnly), err == nil, err)
		}
	}
}

// idContention: uids and gids allocated at once on three nodes are all
// different numbers, a uid and a gid included (they are one space: a
// user's own group takes its uid's number).
func idContention(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	type held struct{ kind, owner string }
	var mu sync.Mutex
	got := map[int]held{}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			n := nodes[i%3]
			h := held{[]string{"uid", "gid"}[i/3%2], "c" + string(rune('a'+i))}
			id, err := n.f.AllocID(ctx, h.kind, h.owner, 0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s %s: %v", h.kind, h.owner, err)
				return
			}
			if other, dup := got[id]; dup {
				t.Errorf("%d given as %s to %s and as %s to %s", id, other.kind, other.owner, h.kind, h.owner)
			}
			got[id] = h
		})
	}
	wg.Wait()
	rt, _ := nodes[0].f.running()
	waitUntil(t, "each id held by its owner in the store, as one kind", 5*time.Second, func() bool {
		var store idsView // read whole: what the store holds
		err := store.refresh(ctx, rt.st)
		for id, h := range got {
			other := map[string]string{"uid": "gid", "gid": "uid"}[h.kind]
			if _, both := store.held[other][id]; err != nil || store.held[h.kind][id] != h.owner || both {
				return false
			}
		}
		return true
	})
	for id, h := range got {
		if lo, hi := nodes[0].f.localRange(h.kind); id < lo || id > hi {
			t.Errorf("%s %d outside the policy's range %d..%d", h.kind, id, lo, hi)
		}
	}
	for id, h := range got {
		_ = nodes[0].f.ReleaseID(ctx, h.kind, id, h.owner)
	}
}

// idsFollow: a node's view of the ids bucket, read in part at each
// allocation, takes in the other nodes' reservations and releases: an id
// another node took is skipped, one it released is given again (the
// allocation goes down from the top), and a second call of a holder's
// name gets an id of its own.
func idsFollow(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	alloc := func(n *testNode, owner string) int {
		t.Helper()
		id, err := n.f.AllocID(ctx, "uid", owner, 0)
		if err != nil {
			t.Fatalf("%s: %v", owner, err)
		}
		return id
	}
	// A node's reads may be answered by a replica a step behind (any
	// replica answers a direct get), so a released id comes back within
	// moments, not at once: an allocation that got another id gives it
	// back and tries again, until the deadline, which outlasts a stream
	// leader's failover (a loaded machine can miss a heartbeat).
	allocBack := func(n *testNode, owner string, want int) int {
		t.Helper()
		var got int
		waitUntil(t, owner+" given "+strconv.Itoa(want)+" on "+n.name, 30*time.Second, func() bool {
			start := time.Now()
			got = alloc(n, owner)
			if got != want {
				t.Logf("%s got %d, not %d, in %v; %s's view of %d: %s", owner, got, want, time.Since(start), n.name, want, viewOf(n, want))
				_ = n.f.ReleaseID(ctx, "uid", got, owner)
			}
			return got == want
		})
		return got
	}
	// The highest id below id that the store's leader holds free, as a
	// uid and as a gid: what an allocation with an up-to-date view gives.
	rt, err := nodes[0].f.running()
	if err != nil {
		t.Fatal(err)
	}
	freeBelow := func(id int) int {
		t.Helper()
		for id--; ; id-- {
			var rec idRecord
			_, uerr := rt.st.get(ctx, bucketIDs, "uid."+strconv.Itoa(id), &rec)
			_, gerr := rt.st.get(ctx, bucketIDs, "gid."+strconv.Itoa(id), &rec)
			if core.IsCode(uerr, core.NotFound) && core.IsCode(gerr, core.NotFound) {
				return id
			}
		}
	}
	_, hi := nodes[0].f.localRange("uid")
	a := allocBack(nodes[0], "va", freeBelow(hi+1))
	b := allocBack(nodes[1], "vb", freeBelow(a))
	if err := nodes[1].f.ReleaseID(ctx, "uid", b, "vb"); err != nil {
		t.Fatal(err)
	}
	allocBack(nodes[0], "vc", b)
	if again := alloc(nodes[0], "vc"); again == b {
		t.Errorf("a second call of vc got the first call's %d", b)
	} else if err := nodes[0].f.ReleaseID(ctx, "uid", again, "vc"); err != nil {
		t.Error(err)
	}
	if err := nodes[0].f.ReleaseID(ctx, "uid", a, "va"); err != nil {
		t.Fatal(err)
	}
	allocBack(nodes[1], "vd", a)
	_ = nodes[0].f.ReleaseID(ctx, "uid", b, "vc")
	_ = nodes[0].f.ReleaseID(ctx, "uid", a, "vd")
}

// orphans: a reservation no call can still be using (older than
// orphanAfter) and no record holds is taken over by its name's next call;
// a young one, or one the name's live record holds, is not.
func orphans(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	n := nodes[0]
	alloc := func(owner string) int {
		t.Helper()
		id, err := n.f.AllocID(ctx, "uid", owner, 0)
		if err != nil {
			t.Fatalf("%s: %v", owner, err)
		}
		return id
	}
	first := alloc("vo")
	young := alloc("vo")
	if young == first {
		t.Fatalf("a second call of vo took the first call's %d, made a moment ago", first)
	}
	if _, err := n.svc.FleetUserCreate(ctx, core.CreateSpec{Name: "vl"}, "", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	u, err := n.f.User(ctx, "vl")
	if err != nil {
		t.Fatal(err)
	}
	defer func(d time.Duration) { orphanAfter = d }(orphanAfter)
	orphanAfter = 0
	if got := alloc("vo"); got != young {
		t.Errorf("vo's old reservation %d not taken over; got %d", young, got)
	}
	if got := alloc("vl"); got == u.UID {
		t.Errorf("vl's uid %d, held by its live record, was taken over", got)
	} else {
		_ = n.f.ReleaseID(ctx, "uid", got, "vl")
	}
	_ = n.f.ReleaseID(ctx, "uid", first, "vo")
	_ = n.f.ReleaseID(ctx, "uid", young, "vo")
	if _, err := n.svc.FleetUserDelete(ctx, "vl", false, 15*time.Second); err != nil {
		t.Error(err)
	}
}

// viewOf says what n's view of the ids bucket holds of id.
func viewOf(n *testNode, id int) string {
	rt, err := n.f.running()
	if err != nil {
		return err.Error()
	}
	var rec idRecord
	rev, err := rt.st.get(context.Background(), bucketIDs, "uid."+strconv.Itoa(id), &rec)
	entries, read, rerr := rt.st.readFrom(context.Background(), bucketIDs, ">", 1, true)
	var raw []string
	for _, e := range entries {
		if strings.HasSuffix(e.Key, "."+strconv.Itoa(id)) {
			raw = append(raw, fmt.Sprintf("%s@%d del=%v", e.Key, e.Revision, e.Deleted))
		}
	}
	v := &rt.ids
	v.mu.Lock()
	defer v.mu.Unlock()
	return fmt.Sprintf("[direct read: %v up to %d %v] uid held by %q, gid held by %q, reported in use by %d nodes; read up to %d (the leader: %q at %d, %v)",
		raw, read, rerr, v.held["uid"][id], v.held["gid"][id], v.used["uid"][id], v.seq, rec.Owner, rev, err)
}

func nameTaken(t *testing.T, nodes []*testNode) {
	twin := newTestNode(t, "n2").start()
	_, err := twin.svc.FleetJoin(context.Background(), core.FleetJoinSpec{Secret: testSecret, Address: nodes[0].leafAddr()})
	if !core.IsCode(err, core.AlreadyExists) || !strings.Contains(err.Error(), "already in the fleet") {
		t.Errorf("a second n2 joined: %v", err)
	}
	if twin.f.Info(context.Background()).InFleet {
		t.Error("the refused node thinks it is in the fleet")
	}
}

// twinCreates: two admins create one name at once on two nodes, both
// past the check that the name is free (each allocation waits for the
// other). Each call reserves a uid of its own; the call that loses the
// race to write the record gives back its own, not the winner's, even
// when the winner's record is still in flight as it looks.
func twinCreates(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	rt, err := nodes[0].f.running()
	if err != nil {
		t.Fatal(err)
	}
	var both sync.WaitGroup
	both.Add(2)
	gate := &allocGate{all: &both}
	svcs := make([]*core.Service, 2)
	for k, n := range nodes[:2] {
		svcs[k] = core.NewService(n.store, core.WithPlugins(n.fk), core.WithFleet(allocBarrier{n.f, gate}), core.WithLogger(testLog(t)))
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k := range svcs {
		wg.Go(func() { _, errs[k] = svcs[k].FleetUserCreate(ctx, core.CreateSpec{Name: "twin"}, "", 15*time.Second) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !(core.IsCode(errs[0], core.AlreadyExists) || core.IsCode(errs[1], core.AlreadyExists)) {
		t.Fatalf("%v / %v, want one create and one AlreadyExists", errs[0], errs[1])
	}
	u, err := nodes[0].f.User(ctx, "twin")
	if err != nil {
		t.Fatal(err)
	}
	if len(gate.ids) != 2 || gate.ids[0] == gate.ids[1] || !slices.Contains(gate.ids, u.UID) {
		t.Fatalf("the two calls reserved %v; want two ids, one of them the record's %d", gate.ids, u.UID)
	}
	var rec idRecord
	if _, err := rt.st.get(ctx, bucketIDs, "uid."+strconv.Itoa(u.UID), &rec); err != nil || rec.Owner != "twin" {
		t.Errorf("twin's uid %d after the losing create: reservation %+v %v", u.UID, rec, err)
	}
	for _, id := range gate.ids {
		if id == u.UID {
			continue
		}
		if _, err := rt.st.get(ctx, bucketIDs, "uid."+strconv.Itoa(id), &rec); !core.IsCode(err, core.NotFound) {
			t.Errorf("the losing call's uid %d is still reserved: %+v %v", id, rec, err)
		}
	}
	if _, err := nodes[0].svc.FleetUserDelete(ctx, "twin", false, 15*time.Second); err != nil {
		t.Error(err)
	}
}

// allocBarrier is a node's backend whose allocations run one at a time
// (the second sees the first's reservation) and each return once all of
// a group have allocated.
type allocBarrier struct {
	*Fleet
	gate *allocGate
}

// allocGate is what a group of allocBarriers share: the ids they got.
type allocGate struct {
	mu  sync.Mutex
	all *sync.WaitGroup
	ids []int
}

func (b allocBarrier) AllocID(ctx context.Context, kind, owner string, want int) (int, error) {
	b.gate.mu.Lock()
	id, err := b.Fleet.AllocID(ctx, kind, owner, want)
	if err == nil {
		b.gate.ids = append(b.gate.ids, id)
	}
	b.gate.mu.Unlock()
	b.gate.all.Done()
	b.gate.all.Wait()
	return id, err
}

func wrongSecret(t *testing.T, nodes []*testNode) {
	eve := newTestNode(t, "eve").start()
	_, err := eve.svc.FleetJoin(context.Background(), core.FleetJoinSpec{Secret: "not the fleet's passphrase", Address: nodes[0].leafAddr()})
	if !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), "SECRET_CODESCALERS") {
		t.Errorf("a wrong secret: %v", err)
	}
}

func evicted(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	// A replica is removed from a replica node: a leaf node's server
	// cannot take it out of the store's replica set.
	if err := nodes[3].svc.NodeRemove(ctx, "n3"); !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), "n1") {
		t.Errorf("n3 removed from the leaf node: %v", err)
	}
	if list, _ := nodes[0].svc.FleetNodes(ctx); !slices.ContainsFunc(list, func(n core.Node) bool { return n.Name == "n3" }) {
		t.Error("n3 is gone after a refused removal")
	}
	// A node removed while it is down leaves when it comes back: it
	// finds its record's delete marker, and does not register again.
	away := newTestNode(t, "n5").start()
	away.join(nodes[0], nil)
	waitUntil(t, "n5 listed", 10*time.Second, func() bool {
		list, err := nodes[0].svc.FleetNodes(ctx)
		return err == nil && slices.ContainsFunc(list, func(n core.Node) bool { return n.Name == "n5" && n.Live })
	})
	away.kill()
	if err := nodes[0].svc.NodeRemove(ctx, "n5"); err != nil {
		t.Fatal(err)
	}
	away.start()
	waitUntil(t, "n5, removed while down, leaves when back", 20*time.Second, func() bool { return !away.f.Info(ctx).InFleet })
	if list, _ := nodes[0].svc.FleetNodes(ctx); slices.ContainsFunc(list, func(n core.Node) bool { return n.Name == "n5" }) {
		t.Error("n5 registered itself again")
	}
	leaf := nodes[3]
	if _, err := leaf.svc.UserGet(ctx, "pia"); err != nil {
		t.Fatalf("the leaf lacks pia: %v", err)
	}
	// A delete marker forged on the feed (anything that may publish there
	// could) evicts nobody: the store is asked.
	forged := nats.NewMsg(desiredFeed + ".node.n4")
	forged.Header.Set("KV-Operation", "DEL")
	forged.Header.Set(jetstream.SequenceHeader, "999999")
	rt, err := nodes[0].f.running()
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.nc.PublishMsg(forged); err != nil {
		t.Fatal(err)
	}
	// Nothing to wait for: n4 must stay, so it is watched for a while.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if !leaf.f.Info(ctx).InFleet {
			t.Fatal("a forged delete marker on the feed evicted n4")
		}
	}
	if err := nodes[0].svc.NodeRemove(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the evicted node leaves", 10*time.Second, func() bool { return !leaf.f.Info(ctx).InFleet })
	u, err := leaf.svc.UserGet(ctx, "pia")
	if err != nil || u.Fleet {
		t.Errorf("the evicted node's pia: %+v %v", u, err)
	}
	if err := leaf.svc.UserDelete(ctx, "pia", false); err != nil {
		t.Errorf("pia is a local user now: %v", err)
	}
	list, _ := nodes[0].svc.FleetNodes(ctx)
	if slices.ContainsFunc(list, func(n core.Node) bool { return n.Name == "n4" }) {
		t.Error("n4 is still listed")
	}
}

// TestExternalNATS: with --nats-url the hosts run no server of their own
// and keep the fleet in the NATS cluster given, which admits them by the
// nkey derived from the secret (fleet-init prints it).
func TestExternalNATS(t *testing.T) {
	ext := newTestNode(t, "ext")
	keys := NewKeys(DeriveMaster(testSecret))
	opts := &server.Options{Host: "127.0.0.1", Port: ext.ports.Client, JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 256 << 20, NoSigs: true,
		Nkeys: []*server.NkeyUser{{Nkey: publicKey(keys.ClientNkey())}}}
	runNATS(t, opts)
	url := "nats://" + hostPort("127.0.0.1", ext.ports.Client)
	ctx := context.Background()
	a, b := newTestNode(t, "ea").start(), newTestNode(t, "eb").start()
	info, err := a.svc.FleetInit(ctx, core.FleetInitSpec{Secret: testSecret, NATSURL: url})
	if err != nil || info.Role != roleExternal || info.ClientNkey != publicKey(keys.ClientNkey()) || info.ClientPort != 0 {
		t.Fatalf("init: %+v %v", info, err)
	}
	// b is given the cluster as a list, its first server down: the
	// client tries the next.
	dead := freePorts(t).Client
	list := "nats://" + hostPort("127.0.0.1", dead) + ", " + url
	if _, err := b.svc.FleetJoin(ctx, core.FleetJoinSpec{Secret: testSecret, NATSURL: "nats://x:1,,nats://y:2"}); !core.IsCode(err, core.Invalid) {
		t.Errorf("a list with an empty item: %v", err)
	}
	if _, err := b.svc.FleetJoin(ctx, core.FleetJoinSpec{Secret: testSecret, NATSURL: list}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "both nodes live", 10*time.Second, func() bool {
		list, err := a.svc.FleetNodes(ctx)
		return err == nil && len(list) == 2 && list[0].Live && list[1].Live
	})
	res, err := b.svc.FleetUserCreate(ctx, core.CreateSpec{Name: "alice"}, "", 10*time.Second)
	if err != nil || res.Failed != 0 || len(res.Rows) != 2 {
		t.Fatalf("create: %v %s", err, rows(res))
	}
	if _, err := a.svc.UserGet(ctx, "alice"); err != nil {
		t.Error(err)
	}
	// b learnt the fleet's id from the store: the nodes hear each
	// other's questions.
	if bst, err := b.svc.FleetStatusGet(ctx); err != nil || bst.Info.FleetID != info.FleetID {
		t.Errorf("b is in fleet %q, a in %q: %v", bst.Info.FleetID, info.FleetID, err)
	}
	replies, err := b.svc.FleetSessions(ctx, "", 5*time.Second)
	if err != nil || len(replies) != 2 {
		t.Errorf("sessions asked from b: %+v %v", replies, err)
	}
	// A second fleet-init on the same NATS is refused: join it instead.
	c := newTestNode(t, "ec").start()
	if _, err := c.svc.FleetInit(ctx, core.FleetInitSpec{Secret: testSecret, NATSURL: url}); !core.IsCode(err, core.AlreadyExists) {
		t.Errorf("a second init: %v", err)
	}
	if _, err := c.svc.FleetJoin(ctx, core.FleetJoinSpec{Secret: testSecret, NATSURL: url}); err != nil {
		t.Errorf("then a join: %v", err)
	}
}

// TestNATSURLIntoEmbeddedFleet: a host given an embedded fleet's client
// port as --nats-url (as the agents bench joins its 50 agents) learns the
// fleet's id from the store, which the replicas wrote, so it hears the
// fleet's questions and is heard.
func TestNATSURLIntoEmbeddedFleet(t *testing.T) {
	nodes := fleetOf(t, "r1", "r2")
	ctx := context.Background()
	x := newTestNode(t, "x").start()
	url := "nats://" + hostPort("127.0.0.1", nodes[0].ports.Client)
	info, err := x.svc.FleetJoin(ctx, core.FleetJoinSpec{Secret: testSecret, NATSURL: url})
	want, _ := nodes[0].svc.FleetStatusGet(ctx)
	if err != nil || info.FleetID == "" || info.FleetID != want.Info.FleetID {
		t.Fatalf("joined fleet %q, want %q: %v", info.FleetID, want.Info.FleetID, err)
	}
	waitUntil(t, "x live", 10*time.Second, func() bool {
		list, err := nodes[0].svc.FleetNodes(ctx)
		return err == nil && len(list) == 3 && list[2].Live
	})
	for _, asker := range []*testNode{x, nodes[1]} {
		if replies, err := asker.svc.FleetSessions(ctx, "", 5*time.Second); err != nil || len(replies) != 3 {
			t.Errorf("sessions asked from %s: %d replies, %v", asker.name, len(replies), err)
		}
	}
}
