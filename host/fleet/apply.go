package fleet

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/threefoldtech/hero_codescalers/core"
)

// refused is the agent's own mark of a record that did not open: it is
// reported once per revision, not retried.
const refused = "refused"

// need reports whether the record key at rev is to be applied here: new,
// changed, or failed last time.
func (ag *agent) need(key string, rev uint64) bool {
	a, ok := ag.done[key]
	if !ok || a.rev < rev {
		return true
	}
	if a.rev > rev {
		return false // an older version, from a replica a step behind
	}
	return a.outcome == core.FleetError || a.outcome == core.FleetClash || a.outcome == core.FleetConflict
}

// applyEntries applies the desired records among entries that this node
// needs: groups first (a user may join them at create), then users (the
// batch path when there are many), then the groups' members again where a
// user came or went.
func (ag *agent) applyEntries(ctx context.Context, entries []entry) {
	ag.mu.Lock()
	labels := maps.Clone(ag.labels)
	ag.mu.Unlock()
	var groups []core.FleetGroup
	var users []core.FleetUser
	var statuses []core.NodeStatus
	for _, e := range entries {
		kind, name, ok := strings.Cut(e.Key, ".")
		if !ok || (kind != "user" && kind != "group") {
			continue
		}
		need := ag.need(e.Key, e.Revision)
		if kind == "user" && !need {
			continue
		}
		var err error
		if kind == "user" {
			var u core.FleetUser
			if err = ag.rt.st.open(bucketDesired, e.Key, e.Value, &u); err == nil {
				u.Revision = e.Revision
				users = append(users, u)
			}
		} else {
			var g core.FleetGroup
			if err = ag.rt.st.open(bucketDesired, e.Key, e.Value, &g); err == nil {
				g.Revision = e.Revision
				ag.mu.Lock()
				ag.groups[g.Name] = g
				ag.mu.Unlock()
				if need {
					groups = append(groups, g)
				}
			}
			if !need {
				continue
			}
		}
		if err != nil {
			st := core.NodeStatus{Object: kind + "/" + name, Revision: e.Revision, Outcome: core.FleetError,
				Error: "refused: the desired value is not sealed with this fleet's key (tampered or written without the secret); not applied"}
			statuses = append(statuses, st)
		}
	}
	for _, g := range groups {
		statuses = append(statuses, ag.svc.ApplyFleetGroup(ctx, g))
	}
	var changed []string
	if len(users) > 0 {
		var out []core.NodeStatus
		if len(users) == 1 {
			out = []core.NodeStatus{ag.svc.ApplyFleetUser(ctx, labels, users[0])}
		} else {
			out = ag.svc.ApplyFleetUsers(ctx, labels, users)
		}
		for i, st := range out {
			if st.Outcome == core.FleetOK || st.Outcome == core.FleetRemoved {
				changed = append(changed, users[i].Name)
			}
		}
		statuses = append(statuses, out...)
	}
	ag.record(ctx, statuses)
	if len(changed) > 0 {
		ag.syncMembers(ctx, changed)
	}
}

// syncMembers re-applies the groups that list one of users, so a user
// made after its group joins it (and one removed leaves it). The groups
// are those this agent last applied: no store read per user.
func (ag *agent) syncMembers(ctx context.Context, users []string) {
	ag.mu.Lock()
	groups := make([]core.FleetGroup, 0, len(ag.groups))
	for _, g := range ag.groups {
		groups = append(groups, g)
	}
	ag.mu.Unlock()
	for _, g := range groups {
		if g.Deleted || !slices.ContainsFunc(g.Members, func(m string) bool { return slices.Contains(users, m) }) {
			continue
		}
		if _, err := ag.svc.GroupGet(ctx, g.Name); err == nil {
			ag.record(ctx, []core.NodeStatus{ag.svc.ApplyFleetGroup(ctx, g)})
		}
	}
}

// desiredKey is the desired record's key of an object ("user/alice").
func desiredKey(object string) string { return strings.Replace(object, "/", ".", 1) }

// record remembers each outcome and writes it as this node's status: the
// answer a fleet call waits for. An object no longer concerning this node
// has its status removed; an unchanged outcome is not written again.
func (ag *agent) record(ctx context.Context, statuses []core.NodeStatus) {
	var writes []core.NodeStatus
	var drops []string
	ag.mu.Lock()
	for _, st := range statuses {
		key := desiredKey(st.Object)
		prev, had := ag.done[key]
		mark := st.Outcome
		if strings.HasPrefix(st.Error, "refused:") {
			mark = refused
		}
		ag.done[key] = applied{rev: st.Revision, outcome: mark}
		switch {
		case st.Outcome == core.FleetSkipped:
			if had && prev.outcome != core.FleetSkipped {
				drops = append(drops, statusKey(ag.rt.m.Node, st.Object))
			}
		case had && prev.rev == st.Revision && prev.outcome == mark:
		default:
			st.Node = ag.rt.m.Node
			writes = append(writes, st)
		}
		if st.Error != "" && (!had || prev.rev != st.Revision || prev.outcome != mark) {
			ag.log.Warn("fleet: could not apply", "object", st.Object, "revision", st.Revision, "outcome", st.Outcome, "err", st.Error)
		}
	}
	ag.mu.Unlock()
	ag.writeStatuses(ctx, writes)
	for _, k := range drops {
		_ = ag.rt.st.del(ctx, bucketStatus, k)
	}
}

// statusWriters bounds the status writes in flight.
const statusWriters = 8

// writeStatuses writes statuses, a few at a time, the agent itself one of
// the writers: the one status of a single change starts no goroutine (a
// fresh one grows its stack decoding the store's answer, 10 µs a write
// that 50 agents pay at once).
func (ag *agent) writeStatuses(ctx context.Context, sts []core.NodeStatus) {
	work := make(chan core.NodeStatus, len(sts))
	for _, st := range sts {
		work <- st
	}
	close(work)
	drain := func() {
		for st := range work {
			ag.writeStatus(ctx, st)
		}
	}
	var wg sync.WaitGroup
	for range min(statusWriters, len(sts)) - 1 {
		wg.Go(drain)
	}
	drain()
	wg.Wait()
}

// writeStatus writes one status. A write that fails even after its
// retries is forgotten here, so the next resync applies (and reports)
// that record again.
func (ag *agent) writeStatus(ctx context.Context, st core.NodeStatus) {
	if _, err := ag.rt.st.put(ctx, bucketStatus, statusKey(st.Node, st.Object), st, anyRevision); err != nil {
		ag.log.Warn("fleet: could not write a status; it is retried", "object", st.Object, "err", err)
		ag.mu.Lock()
		delete(ag.done, desiredKey(st.Object))
		ag.mu.Unlock()
	}
}

// loadDone starts the agent from this node's statuses in the store, so a
// restarted node applies only what changed while it was away.
func (ag *agent) loadDone(ctx context.Context) {
	entries, err := ag.rt.st.list(ctx, bucketStatus, subjectToken(ag.rt.m.Node)+".>")
	if err != nil {
		return
	}
	ag.mu.Lock()
	defer ag.mu.Unlock()
	for _, e := range entries {
		var st core.NodeStatus
		if ag.rt.st.open(bucketStatus, e.Key, e.Value, &st) == nil && st.Outcome == core.FleetOK {
			ag.done[desiredKey(st.Object)] = applied{rev: st.Revision, outcome: st.Outcome}
		}
	}
}

// countDrift counts the records placed on this node that are not as
// desired, and this node's fleet users the desired state has no record of
// (orphans: reported, never removed on their own).
func (ag *agent) countDrift(ctx context.Context, entries []entry) {
	ag.mu.Lock()
	labels := maps.Clone(ag.labels)
	ag.mu.Unlock()
	drift := 0
	known := map[string]bool{}
	for _, e := range entries {
		kind, name, _ := strings.Cut(e.Key, ".")
		if kind != "user" && kind != "group" {
			continue
		}
		known[e.Key] = true
		ag.mu.Lock()
		a, ok := ag.done[e.Key]
		ag.mu.Unlock()
		if ok && a.rev == e.Revision && (a.outcome == core.FleetOK || a.outcome == core.FleetRemoved || a.outcome == core.FleetSkipped) {
			continue
		}
		if kind == "user" && ok && a.rev == e.Revision && a.outcome == refused {
			drift++
			continue
		}
		_ = name
		if kind == "group" || ag.placedHere(e, labels) {
			drift++
		}
	}
	if local, err := ag.svc.FleetLocalUsers(ctx); err == nil {
		for _, u := range local {
			if !known[userKey(u.Name)] {
				drift++
			}
		}
	}
	ag.mu.Lock()
	ag.drift = drift
	ag.mu.Unlock()
}

// placedHere reports whether a user record is placed on this node.
func (ag *agent) placedHere(e entry, labels map[string]string) bool {
	var u core.FleetUser
	if ag.rt.st.seal.Open(bucketDesired, e.Key, e.Value, &u) != nil {
		return true // refused: counted as drift
	}
	return u.Placed(labels)
}
