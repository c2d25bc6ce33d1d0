package plugins

import (
	"context"
	"fmt"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// List describes the plugin of each concern, in the fixed concern order:
// what plugin.list and the dashboard show. A concern nobody serves is
// listed as not ready with the reason.
func (m *Manager) List() []core.PluginInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]core.PluginInfo, 0, len(sdk.Concerns))
	for _, concern := range sdk.Concerns {
		out = append(out, m.describe(concern, m.routes[concern]))
	}
	return out
}

func (m *Manager) describe(concern string, rt *route) core.PluginInfo {
	info := core.PluginInfo{Concern: concern}
	if rt.missing != "" {
		info.State, info.LastError = core.PluginNotReady, rt.missing
		return info
	}
	c := rt.pick.Candidate
	info.Name, info.Version, info.Path = c.Name(), c.Manifest.Version, c.Path
	info.Why, info.PassedOver = rt.pick.Why, rt.passedOver
	p := rt.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	info.SHA256, info.Restarts, info.State, info.LastError = p.sha, p.restarts, p.state, p.lastErr
	switch {
	case rt.refused != "":
		info.State, info.LastError = core.PluginRefused, rt.refused
	case p.state == core.PluginRefused && p.approve:
		info.LastError = p.reason + "; " + approveHint(concern, m.mode == ModeSudo)
	case p.state != core.PluginReady && p.reason != "":
		info.LastError = p.reason
	}
	if p.inst != nil {
		info.PID = p.inst.pid
	}
	return info
}

// Healthy reports whether every concern has a ready plugin: what /health
// and stats summarise.
func (m *Manager) Healthy() bool {
	ready, total := m.Summary()
	return ready == total
}

// Summary counts the concerns whose plugin is ready, out of every concern that has one or must have one.
func (m *Manager) Summary() (ready, total int) {
	for _, info := range m.List() {
		if m.absent(info.Concern) {
			continue
		}
		total++
		if info.State == core.PluginReady {
			ready++
		}
	}
	return ready, total
}

// absent reports whether concern is optional and nothing serves it: the
// host is whole without it.
func (m *Manager) absent(concern string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rt := m.routes[concern]
	return rt != nil && rt.absent
}

// WaitReady blocks until every plugin has made its first start attempt
// (or been refused), then reports nil when every concern is ready (an optional one may have no plugin) and
// otherwise an error naming those that are not. The host logs that error
// and serves anyway; calls to a concern without a ready plugin fail with
// Unavailable. It returns ctx's error if ctx ends first.
func (m *Manager) WaitReady(ctx context.Context) error {
	m.mu.RLock()
	started := m.started
	m.mu.RUnlock()
	if !started {
		return fmt.Errorf("plugins: not started")
	}
	// A proc that falls back adds the runner-up's proc before it settles:
	// wait until a pass finds no proc it has not waited for.
	for waited := 0; ; {
		m.mu.RLock()
		procs := m.procs
		m.mu.RUnlock()
		if waited == len(procs) {
			break
		}
		for _, p := range procs[waited:] {
			select {
			case <-p.settled:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		waited = len(procs)
	}
	var bad []string
	for _, info := range m.List() {
		if info.State != core.PluginReady && !m.absent(info.Concern) {
			bad = append(bad, fmt.Sprintf("%s: %s %s", info.Concern, info.State, info.LastError))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("plugins not ready: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Platform is what the plugins were chosen for (os-release and the home
// root's filesystem), for stats and the dashboard.
func (m *Manager) Platform() Platform {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.platform
}
