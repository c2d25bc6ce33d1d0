package fleet

import (
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// A fleet call hears the nodes' statuses as they are published, before
// every replica has stored them, and a list answered by a replica a step
// behind may not hold them yet. Statuses adds what this host's calls heard
// lately, so a call right after another through the same host sees the
// nodes the first one reached (which an edit must wait for: the targets
// are the nodes that carry the object). Calls through different hosts a
// few milliseconds apart can still miss them; the agents converge anyway.

// heardFor is how long a heard status counts: by then every replica has
// stored it (or the write failed, and the node writes it again).
const heardFor = time.Minute

type heardStatus struct {
	st core.NodeStatus
	at time.Time
}

// heardStatuses are the statuses heard lately, by object then node.
type heardStatuses struct {
	mu    sync.Mutex
	by    map[string]map[string]heardStatus
	swept time.Time // the last time expired entries were dropped
}

// note remembers st as heard now.
func (h *heardStatuses) note(st core.NodeStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.by == nil {
		h.by = map[string]map[string]heardStatus{}
	}
	if now.Sub(h.swept) > heardFor/10 {
		h.swept = now
		for obj, nodes := range h.by {
			for n, e := range nodes {
				if now.Sub(e.at) > heardFor {
					delete(nodes, n)
				}
			}
			if len(nodes) == 0 {
				delete(h.by, obj)
			}
		}
	}
	nodes := h.by[st.Object]
	if nodes == nil {
		nodes = map[string]heardStatus{}
		h.by[st.Object] = nodes
	}
	if prev, ok := nodes[st.Node]; !ok || prev.st.Revision <= st.Revision {
		nodes[st.Node] = heardStatus{st: st, at: now}
	}
}

// merge adds to listed (statuses of object, "" for all) those heard later
// or of a later revision.
func (h *heardStatuses) merge(object string, listed []core.NodeStatus) []core.NodeStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	at := map[[2]string]int{}
	for i, st := range listed {
		at[[2]string{st.Object, st.Node}] = i
	}
	now := time.Now()
	for obj, nodes := range h.by {
		if object != "" && obj != object {
			continue
		}
		for n, e := range nodes {
			if now.Sub(e.at) > heardFor {
				continue
			}
			i, ok := at[[2]string{obj, n}]
			switch {
			case !ok:
				listed = append(listed, e.st)
			case listed[i].Revision < e.st.Revision:
				listed[i] = e.st
			}
		}
	}
	return listed
}
