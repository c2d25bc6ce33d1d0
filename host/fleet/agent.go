package fleet

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/threefoldtech/hero_codescalers/core"
)

// The agent converges this node to the desired state. It follows the
// desired bucket's changes as the stream republishes them (desiredFeed: a
// plain subscription, no consumer, so nothing to stall when a peer dies),
// and it also resyncs on a period, so a change the feed lost (published
// while this node was disconnected, or dropped) is still applied. A resync costs one request when nothing changed (the bucket's
// last revision), and otherwise reads the bucket once and applies only
// what changed since this node last applied it, or failed.

// applied is the last outcome of one desired record on this node.
type applied struct {
	rev     uint64
	outcome string
}

// agent is the running convergence loop of one runtime.
type agent struct {
	f   *Fleet
	rt  *runtime
	svc *core.Service
	log *slog.Logger

	mu         sync.Mutex
	state      string            // the store as this node sees it (Info.Store)
	labels     map[string]string // this node's labels
	done       map[string]applied
	lastSeq    uint64 // the desired bucket's revision at the last full pass
	appliedSeq uint64
	drift      int
	registered bool // this node's record was there (so its removal means eviction)
	behind     bool // the last pass read a replica behind the leader
	inUse      *inUse
	// groups are the desired groups as last seen, for syncMembers.
	groups map[string]core.FleetGroup
}

func (ag *agent) setState(s string) {
	ag.mu.Lock()
	ag.state = s
	ag.mu.Unlock()
}

func (ag *agent) storeState() string {
	ag.mu.Lock()
	defer ag.mu.Unlock()
	return ag.state
}

// errEvicted ends the agent of a node removed from the fleet.
var errEvicted = errors.New("this node was removed from the fleet")

// runAgent runs the agent on rt until ctx ends, the runtime fails, or the
// node is evicted (then it leaves the fleet).
func (f *Fleet) runAgent(ctx context.Context, rt *runtime) error {
	f.mu.Lock()
	svc := f.svc
	f.mu.Unlock()
	ag := &agent{f: f, rt: rt, svc: svc, log: f.log, done: map[string]applied{}, state: "starting",
		groups: map[string]core.FleetGroup{}}
	f.mu.Lock()
	f.agent = ag
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.agent = nil
		f.mu.Unlock()
	}()
	if rt.m.Role == roleReplica {
		if sub, err := f.serveJoins(ctx, rt); err == nil {
			defer sub.Unsubscribe()
		}
	}
	if sub, err := f.serveAsk(ctx, rt, svc); err == nil {
		defer sub.Unsubscribe()
	}
	err := ag.prepare(ctx)
	if err == nil {
		err = ag.loop(ctx)
	}
	if errors.Is(err, errEvicted) {
		return f.leave(rt)
	}
	return err
}

// prepare waits until the store answers, with this node's record in it.
func (ag *agent) prepare(ctx context.Context) error {
	wait := 250 * time.Millisecond
	for ctx.Err() == nil {
		tctx, cancel := context.WithTimeout(ctx, 2*tryTimeout)
		err := ag.ready(tctx)
		cancel()
		if err == nil || errors.Is(err, errEvicted) {
			return err
		}
		ag.setState(ag.describe(err))
		ag.log.Debug("fleet: store not ready", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
	return ctx.Err()
}

// describe says why the store does not answer, for fleet-status.
func (ag *agent) describe(err error) string {
	if ag.rt.m.Role == roleReplica && len(ag.rt.m.Peers) <= 1 {
		return "waiting for a second replica node: run fleet-join on another node"
	}
	return "unreachable: " + err.Error()
}

// ready makes the buckets (a replica), checks this node's record (its
// removal while the node was away is an eviction) and writes it when it
// is missing or outdated.
func (ag *agent) ready(ctx context.Context) error {
	rt := ag.rt
	if rt.m.Role == roleReplica || rt.m.Role == roleExternal {
		if err := rt.st.ensure(ctx, rt.bucketReplicas()); err != nil {
			return err
		}
		if rt.m.FleetID != "" {
			_, err := rt.st.put(ctx, bucketDesired, fleetKey, fleetRecord{ID: rt.m.FleetID}, newKey)
			if err != nil && !core.IsCode(err, core.AlreadyExists) {
				return err
			}
		}
	} else if _, err := rt.st.bucket(ctx, bucketDesired); err != nil {
		return err
	}
	var me core.Member
	_, err := rt.st.get(ctx, bucketDesired, memberKey(rt.m.Node), &me)
	if errors.Is(err, errKeyDeleted) {
		return errEvicted // removed while this node was away: never re-registered here, only by fleet-join
	}
	if err == nil && me.ID == rt.m.NodeID && me.Address == rt.m.Address && me.Role == rt.m.Role {
		ag.labels = me.Labels
	} else if err := ag.f.registerSelf(ctx, rt, nil); err != nil {
		return err
	}
	ag.registered = true
	ag.setState("ok")
	return nil
}

// memberDeleted reports whether this node's record carries a delete
// marker: node-remove evicted it (while this node was away, too). The
// stream's leader says so, from the marker itself: a message on the feed
// is no proof, since anything that may publish there could forge one.
func (ag *agent) memberDeleted(ctx context.Context) (bool, error) {
	var m core.Member
	_, err := ag.rt.st.get(ctx, bucketDesired, memberKey(ag.rt.m.Node), &m)
	switch {
	case errors.Is(err, errKeyDeleted):
		return true, nil
	case err == nil, core.IsCode(err, core.NotFound):
		return false, nil
	}
	return false, err
}

// loop is the agent's main loop.
func (ag *agent) loop(ctx context.Context) error {
	resync := time.NewTicker(ag.f.opts.ResyncEvery)
	defer resync.Stop()
	ag.loadDone(ctx)
	// Announcing runs apart: a write to a bucket whose leader just died
	// is retried for seconds, and must not hold up applying changes.
	actx, stopAnnounce := context.WithCancel(ctx)
	defer stopAnnounce()
	go ag.announcing(actx)
	// The feed first, then the first pass: a change between the two is
	// then read twice, never missed. The client resubscribes after a
	// reconnect; what was published meanwhile the resync reads.
	changes := make(chan *nats.Msg, feedBuffer)
	sub, err := ag.rt.nc.ChanSubscribe(desiredFeed+".>", changes)
	if err != nil {
		return unavailable(err)
	}
	defer sub.Unsubscribe()
	if err := ag.resync(ctx, true, nil); err != nil {
		return err
	}
	// A pass that read a replica behind the leader is followed by
	// another soon, not a period later.
	again := time.NewTimer(time.Hour)
	again.Stop()
	wait, pending := behindRetry, false
	for ctx.Err() == nil {
		ag.mu.Lock()
		behind := ag.behind
		ag.mu.Unlock()
		switch {
		case !behind:
			wait = behindRetry
		case !pending:
			again.Reset(wait)
			pending, wait = true, min(2*wait, ag.f.opts.ResyncEvery)
		}
		select {
		case <-ctx.Done():
		case m := <-changes:
			if err := ag.handle(ctx, m); err != nil {
				return err
			}
		case <-resync.C:
			if err := ag.resync(ctx, false, nil); err != nil {
				return err
			}
		case <-again.C:
			pending = false
			if err := ag.resync(ctx, false, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// behindRetry is how soon a pass that read a replica behind the leader is
// made again (doubling up to the resync period).
const behindRetry = 100 * time.Millisecond

// feedBuffer is how many changes may wait for the loop; beyond it the
// subscription drops them (a slow consumer), and the next resync reads
// what was dropped.
const feedBuffer = 1024

// handle applies one change the feed delivered.
func (ag *agent) handle(ctx context.Context, m *nats.Msg) error {
	key := strings.TrimPrefix(m.Subject, desiredFeed+".")
	rev, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return nil // not a republished change: the resync reads the bucket
	}
	defer ag.delivered(rev)
	if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
		if key == memberKey(ag.rt.m.Node) && ag.registered {
			if deleted, err := ag.memberDeleted(ctx); err == nil && deleted {
				return errEvicted
			}
		}
		return nil
	}
	if strings.HasPrefix(key, "node.") {
		// A node's record: labels may have changed what is placed here,
		// and the replica set where a restart finds the fleet. The pass
		// reads the record as delivered, whatever the replica it lists
		// has stored yet.
		return ag.resync(ctx, true, &entry{Key: key, Revision: rev, Value: m.Data})
	}
	ag.applyEntries(ctx, []entry{{Key: key, Revision: rev, Value: m.Data}})
	return nil
}

// delivered notes that the feed delivered (and handle applied) rev. This
// node has then applied everything up to rev only when rev follows what
// it had applied: the feed misses what was published while this node was
// disconnected, or what it dropped, and a resync must still read that.
func (ag *agent) delivered(rev uint64) {
	ag.mu.Lock()
	if rev == ag.appliedSeq+1 {
		ag.appliedSeq = rev
	}
	ag.mu.Unlock()
}

// resync reads the whole desired state when it changed since the last
// pass (or force), and applies what this node has not. fresh, when set, is
// a record the feed delivered: it stands in for an older one listed.
func (ag *agent) resync(ctx context.Context, force bool, fresh *entry) error {
	last, lerr := ag.rt.st.lastRevision(ctx, bucketDesired)
	ag.mu.Lock()
	if lerr == nil && last < ag.lastSeq {
		// The bucket went back: it was made anew (an external cluster
		// reset, say). Its revisions start again; this node's count of
		// what it applied means nothing there.
		ag.lastSeq, ag.appliedSeq = 0, 0
		for k, a := range ag.done {
			a.rev = 0
			ag.done[k] = a
		}
		force = true
	}
	// Unchanged: nothing written since the last pass, or the feed has
	// delivered (and this node applied) everything up to the last write.
	// When the stream's leader does not answer (it may have just died),
	// the entries are read anyway: any replica serves them.
	unchanged := lerr == nil && (last == ag.lastSeq || last <= ag.appliedSeq) && !ag.retryDue()
	ag.mu.Unlock()
	if unchanged && !force {
		return nil
	}
	list := func(ctx context.Context, st *store) ([]entry, uint64, error) {
		return st.listUpTo(ctx, bucketDesired, ">")
	}
	if ag.f.listDesired != nil {
		list = ag.f.listDesired
	}
	entries, read, err := list(ctx, ag.rt.st)
	if err != nil {
		ag.setState(ag.describe(err))
		return nil
	}
	if fresh != nil {
		entries = overlay(entries, *fresh)
	}
	ag.setState("ok")
	relabelled, err := ag.readMembers(ctx, entries)
	if err != nil {
		return err
	}
	if relabelled {
		// What is placed here may have changed for any record.
		ag.mu.Lock()
		for k, a := range ag.done {
			a.rev = 0
			ag.done[k] = a
		}
		ag.mu.Unlock()
	}
	ag.applyEntries(ctx, entries)
	ag.mu.Lock()
	ag.behind = false
	switch {
	case lerr != nil:
		// The leader did not say how far the bucket goes: count what was
		// read, never beyond the last pass's, so the next pass that hears
		// the leader reads again if anything was written meanwhile.
		last = min(read, ag.lastSeq)
	case read < last:
		// The replica that answered had not stored the leader's last
		// write yet (this node's own, say, catching up after a restart):
		// what it lacked is not applied, and is read again soon. The feed
		// may have missed it too, if it came before this node listened.
		last, ag.behind = read, true
	}
	ag.lastSeq, ag.appliedSeq = last, max(ag.appliedSeq, last)
	ag.mu.Unlock()
	ag.countDrift(ctx, entries)
	return nil
}

// overlay puts e in entries in place of an older revision of its key.
func overlay(entries []entry, e entry) []entry {
	for i := range entries {
		if entries[i].Key == e.Key {
			if entries[i].Revision < e.Revision {
				entries[i] = e
			}
			return entries
		}
	}
	return append(entries, e)
}

// retryDue reports whether a record failed here and is to be tried again.
func (ag *agent) retryDue() bool {
	for _, a := range ag.done {
		if a.outcome == core.FleetError || a.outcome == core.FleetClash || a.outcome == core.FleetConflict {
			return true
		}
	}
	return false
}

// readMembers takes this node's labels and the replica set from the
// members' records, and reports whether the labels changed; this node's
// record gone is an eviction.
func (ag *agent) readMembers(ctx context.Context, entries []entry) (bool, error) {
	self := memberKey(ag.rt.m.Node)
	var peers []peer
	found, relabelled := false, false
	for _, e := range entries {
		if !strings.HasPrefix(e.Key, "node.") {
			continue
		}
		var m core.Member
		if ag.rt.st.open(bucketDesired, e.Key, e.Value, &m) != nil {
			continue
		}
		if e.Key == self {
			found = true
			ag.mu.Lock()
			relabelled = !maps.Equal(ag.labels, m.Labels)
			ag.labels = maps.Clone(m.Labels)
			ag.mu.Unlock()
		}
		if m.Role == roleReplica && m.ID != "" {
			peers = append(peers, peer{Name: m.Name, Address: m.Address, RoutePort: m.RoutePort, LeafPort: m.LeafPort})
		}
	}
	if !found && ag.registered {
		if deleted, err := ag.memberDeleted(ctx); err == nil && deleted {
			return false, errEvicted
		}
	}
	ag.f.notePeers(peers)
	return relabelled, nil
}
