package plugins

import (
	"fmt"
	"slices"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Choosing by live readiness. The ranking (Rank) is a pure function of
// what is on disk and of the platform, so it cannot see that, say,
// /run/systemd/seats exists on a machine booted without systemd while
// logind does not run. The manager starts the best-ranked plugin of each
// concern; when its first Probe says not ready, the concern falls back to
// the runner-up — started, checked against the lock, probed the same way
// — until one is ready or the list ends. The plugins passed over, and
// why, are kept with the route for the log and plugin.list. A pinned
// concern never falls back: the operator chose it.
//
// The lock (lock.go) pins a fallback's binary too, under its own key per
// concern, so a plugin that runs only when the preferred one is not ready
// is still refused when its binary changes, and the preferred one keeps
// its entry for the day it is ready again.

// fallBack runs once per proc, when its first start attempt has settled:
// every concern routed to p that has a runner-up moves there if p's probe
// said not ready. p stops once no concern routes to it.
func (m *Manager) fallBack(p *proc) {
	p.mu.Lock()
	state, reason, concerns := p.state, p.reason, slices.Clone(p.concerns)
	p.mu.Unlock()
	if state != core.PluginNotReady {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil || m.ctx.Err() != nil {
		return
	}
	moved := false
	for _, concern := range concerns {
		rt := m.routes[concern]
		if rt == nil || rt.proc != p || len(rt.fallbacks) == 0 {
			continue
		}
		next := rt.fallbacks[0]
		why := fmt.Sprintf("%s not ready: %s", p.name, reason)
		m.log.Warn("plugin not ready; falling back to the next plugin", "concern", concern, "plugin", p.name,
			"reason", reason, "next", next.Candidate.Name(), "path", next.Candidate.Path)
		np := newProc(m, next.Candidate)
		np.concerns = []string{concern}
		m.procs = append(m.procs, np)
		m.routes[concern] = &route{pick: next, proc: np, fallbacks: rt.fallbacks[1:],
			passedOver: append(slices.Clone(rt.passedOver), why), approving: rt.approving}
		p.mu.Lock()
		p.concerns = slices.DeleteFunc(p.concerns, func(c string) bool { return c == concern })
		p.mu.Unlock()
		moved = true
		go m.admitAndRun(np)
	}
	if moved && !m.routedAnywhere(p) {
		p.stop()
	}
}

// routedAnywhere reports whether any concern still routes to p. The caller
// holds m.mu.
func (m *Manager) routedAnywhere(p *proc) bool {
	for _, rt := range m.routes {
		if rt.proc == p {
			return true
		}
	}
	return false
}

// lockKeyFor is the lock entry that admits p for concern — the
// fallback's own entry when the route came from a fallback — and whether
// an Approve is in progress on the route, which records the binary
// instead of comparing it.
func (m *Manager) lockKeyFor(concern string, p *proc) (key string, approving bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rt := m.routes[concern]
	if rt == nil || rt.proc != p {
		return lockPrefix + concern, false
	}
	if len(rt.passedOver) > 0 {
		return fallbackLockPrefix + concern, rt.approving
	}
	return lockPrefix + concern, rt.approving
}
