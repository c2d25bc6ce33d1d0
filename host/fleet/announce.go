package fleet

import (
	"context"
	"slices"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// announcing announces this node now and every AnnounceEvery until ctx
// ends.
func (ag *agent) announcing(ctx context.Context) {
	t := time.NewTicker(ag.f.opts.AnnounceEvery)
	defer t.Stop()
	for {
		ag.announce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// announce writes this node's announcement (it expires when the node stops
// announcing) and, when they changed, the ids its account files use.
func (ag *agent) announce(ctx context.Context) {
	rt, f := ag.rt, ag.f
	lo, hi := f.localRange("uid")
	var plugins []string
	if f.opts.Plugins != nil {
		for _, p := range f.opts.Plugins() {
			plugins = append(plugins, p.Concern+"="+p.Name+" ("+string(p.State)+")")
		}
	}
	ag.mu.Lock()
	a := core.NodeAnnounce{Name: rt.m.Node, ID: rt.m.NodeID, Version: f.opts.Version, Address: rt.m.Address,
		Role: rt.m.Role, Plugins: plugins, Seen: time.Now().UTC(), Applied: ag.appliedSeq, Drift: ag.drift,
		UIDMin: lo, UIDMax: hi}
	ag.mu.Unlock()
	if _, err := rt.st.put(ctx, bucketNodes, subjectToken(rt.m.Node), a, anyRevision); err != nil {
		ag.log.Debug("fleet: announce", "err", err)
		return
	}
	ag.reportInUse(ctx)
}

// reportInUse writes the ids this node's account files use, when they
// changed since the last report.
func (ag *agent) reportInUse(ctx context.Context) {
	r, err := ag.f.readInUse()
	if err != nil {
		ag.log.Debug("fleet: reading the account files' ids", "err", err)
		return
	}
	ag.mu.Lock()
	same := ag.inUse != nil && slices.Equal(ag.inUse.UIDs, r.UIDs) && slices.Equal(ag.inUse.GIDs, r.GIDs)
	ag.mu.Unlock()
	if same {
		return
	}
	if _, err := ag.rt.st.put(ctx, bucketIDs, "inuse."+subjectToken(ag.rt.m.Node), r, anyRevision); err != nil {
		return
	}
	ag.mu.Lock()
	ag.inUse = &r
	ag.mu.Unlock()
}
