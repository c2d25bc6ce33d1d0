package plugins

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// admitAndRun checks a proc's binary against the lock of each of its
// concerns (hashing in the proc's own goroutine, so the binaries hash in
// parallel), then supervises it.
func (m *Manager) admitAndRun(p *proc) {
	if !m.admit(p) {
		p.settle()
		close(p.done)
		return
	}
	p.run(m.ctx)
}

// admit records the digest on first use and refuses the concerns whose
// lock names another binary or digest. It reports whether any concern is
// left to serve.
func (m *Manager) admit(p *proc) bool {
	p.mu.Lock()
	concerns := slices.Clone(p.concerns)
	p.mu.Unlock()
	if sha, ok := m.lockedDigest(p, concerns); ok && m.mode == ModeDirect {
		// Every concern's lock names this binary at one digest, and
		// SecureConfig compares the file with it right before the exec:
		// hashing here too would only do the same work twice.
		p.mu.Lock()
		p.sha = sha
		p.mu.Unlock()
		return true
	}
	sha, err := hashFile(p.path)
	if err != nil {
		p.set(core.PluginRefused, "cannot read the plugin binary: "+err.Error())
		return false
	}
	var admitted []string
	var first string
	for _, concern := range concerns {
		why := m.checkLock(concern, p, sha)
		if why == "" {
			admitted = append(admitted, concern)
			continue
		}
		m.refuseRoute(concern, p.name, why)
		if first == "" {
			first = why
		}
	}
	p.mu.Lock()
	p.sha, p.concerns, p.hashed = sha, admitted, true
	p.mu.Unlock()
	if len(admitted) == 0 {
		p.set(core.PluginRefused, first)
		return false
	}
	return true
}

// refuseRoute marks one concern refused by the lock.
func (m *Manager) refuseRoute(concern, plugin, why string) {
	m.log.Error("plugin refused by the lock", "concern", concern, "plugin", plugin, "reason", why)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.routes[concern].refused = why
}

// checkLock compares one concern's lock with the binary about to run; a
// concern without a lock entry records this binary (first use), as does
// an Approve in progress.
func (m *Manager) checkLock(concern string, p *proc, sha string) string {
	key, approving := m.lockKeyFor(concern, p)
	lock, found, err := loadLockAt(m.opts.Store, key)
	if err != nil {
		return "cannot read the plugin lock: " + err.Error()
	}
	if !found || approving {
		e := LockEntry{Name: p.name, Path: p.path, SHA256: sha, ApprovedAt: time.Now().UTC()}
		if err := saveLockAt(m.opts.Store, key, e); err != nil {
			return "cannot record the plugin lock: " + err.Error()
		}
		m.log.Info("plugin recorded in the lock", "concern", concern, "plugin", p.name, "sha256", sha,
			"fallback", key != lockPrefix+concern)
		return ""
	}
	if what := mismatch(lock, p.name, p.path, sha); what != "" {
		return what + "; " + approveHint(concern, m.mode == ModeSudo)
	}
	return ""
}

// lockedDigest returns the digest the lock holds for p when every one of
// its concerns has an entry naming p's binary at the same digest.
func (m *Manager) lockedDigest(p *proc, concerns []string) (string, bool) {
	sha := ""
	for _, c := range concerns {
		key, approving := m.lockKeyFor(c, p)
		lock, found, err := loadLockAt(m.opts.Store, key)
		if err != nil || !found || approving || lock.Name != p.name || lock.Path != p.path || (sha != "" && lock.SHA256 != sha) {
			return "", false
		}
		sha = lock.SHA256
	}
	return sha, sha != ""
}

// Approve accepts the plugin now chosen for concern as it is on disk: it
// discovers and selects afresh, re-reads the binary, records its digest in
// the lock and routes the concern to a process of it, starting one if
// needed. It waits for that process's first start (or ctx) and returns its
// failure, if any. This is what `hero_codescalers plugin-approve CONCERN`
// calls after an upgrade changed a plugin binary.
func (m *Manager) Approve(ctx context.Context, concern string) error {
	if !slices.Contains(sdk.Concerns, concern) {
		return core.InvalidField("concern", "unknown concern %q", concern)
	}
	m.mu.RLock()
	running := m.started && m.ctx.Err() == nil
	m.mu.RUnlock()
	if !running {
		return core.Errorf(core.FailedPrecondition, "the plugin manager is not running")
	}
	_, ranked, err := m.choose()
	if err != nil {
		return core.Wrap(err, core.FailedPrecondition, "%v", err)
	}
	list, ok := ranked[concern]
	if !ok {
		return core.Errorf(core.NotFound, "no plugin for %s fits this machine", concern)
	}
	pk := list[0]
	sha, err := hashFile(pk.Candidate.Path)
	if err != nil {
		return core.Wrap(err, core.FailedPrecondition, "read plugin %s: %v", pk.Candidate.Path, err)
	}
	entry := LockEntry{Name: pk.Candidate.Name(), Path: pk.Candidate.Path, SHA256: sha, ApprovedAt: time.Now().UTC()}
	if err := saveLock(m.opts.Store, concern, entry); err != nil {
		return core.Wrap(err, core.Internal, "record the plugin lock")
	}
	m.log.Info("plugin approved", "concern", concern, "plugin", entry.Name, "sha256", sha)
	m.reroute(concern, pk, sha, list[1:])
	if err := m.waitRoute(ctx, concern); err != nil {
		return err
	}
	if info := m.describeOne(concern); info.State != core.PluginReady && info.State != core.PluginNotReady {
		return core.Errorf(core.Unavailable, "plugin %s (%s) approved but not running: %s %s",
			info.Name, concern, info.State, info.LastError)
	}
	return nil
}

// waitRoute waits until the process concern routes to has made its first
// start attempt and the route has stopped moving (a fallback may move it
// on), then ends the route's approval: later starts compare with the lock
// again.
func (m *Manager) waitRoute(ctx context.Context, concern string) error {
	for {
		m.mu.RLock()
		p := m.routes[concern].proc
		m.mu.RUnlock()
		select {
		case <-p.settled:
		case <-ctx.Done():
			return ctx.Err()
		}
		m.mu.Lock()
		rt := m.routes[concern]
		if rt.proc == p {
			rt.approving = false
			m.mu.Unlock()
			return nil
		}
		m.mu.Unlock()
	}
}

// reroute points concern at a proc running path at sha: the existing one
// when it is healthy, else a new one, with fallbacks as its runners-up. A
// proc left without concerns stops.
func (m *Manager) reroute(concern string, pk Pick, sha string, fallbacks []Pick) *proc {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.routes[concern]
	var target *proc
	for _, p := range m.procs {
		p.mu.Lock()
		usable := p.path == pk.Candidate.Path && p.sha == sha &&
			p.state != core.PluginRefused && p.state != core.PluginStopped
		p.mu.Unlock()
		if usable {
			target = p
			break
		}
	}
	fresh := target == nil
	if fresh {
		target = newProc(m, pk.Candidate)
		target.sha, target.hashed = sha, true
		m.procs = append(m.procs, target)
	}
	target.mu.Lock()
	if !slices.Contains(target.concerns, concern) {
		target.concerns = append(target.concerns, concern)
	}
	target.mu.Unlock()
	if old := rt.proc; old != nil && old != target {
		old.mu.Lock()
		old.concerns = slices.DeleteFunc(old.concerns, func(c string) bool { return c == concern })
		orphan := !m.routedElsewhere(old, concern)
		old.mu.Unlock()
		if orphan {
			old.stop()
		}
	}
	m.routes[concern] = &route{pick: pk, proc: target, fallbacks: fallbacks, approving: true}
	if fresh {
		go target.run(m.ctx)
	}
	return target
}

// routedElsewhere reports whether a concern other than skip still routes
// to p. The caller holds m.mu.
func (m *Manager) routedElsewhere(p *proc, skip string) bool {
	for c, rt := range m.routes {
		if c != skip && rt.proc == p && rt.refused == "" {
			return true
		}
	}
	return false
}

func (m *Manager) describeOne(concern string) core.PluginInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.describe(concern, m.routes[concern])
}

// String names a proc in logs and errors.
func (p *proc) String() string { return fmt.Sprintf("%s (%s)", p.name, p.path) }
