package metrics

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// writeUsers counts the managed users by state and gives each home's
// quota (from the state) and usage (from the volumes plugin, within the
// usage budget).
func (m *Metrics) writeUsers(ctx context.Context, w writer) {
	var users []core.User
	for after := ""; ; {
		page, next, err := m.src.Service.UserList(ctx, core.UserFilter{Limit: 1000, After: after})
		if err != nil {
			m.src.Logger.Warn("metrics: cannot list users", "err", err)
			return
		}
		users = append(users, page...)
		if next == "" {
			break
		}
		after = next
	}
	byState := map[core.UserState]int{core.UserActive: 0, core.UserLocked: 0}
	for _, u := range users {
		byState[u.State]++
	}
	w.family("hero_codescalers_users", "gauge", "Managed users by state.")
	for _, st := range []core.UserState{core.UserActive, core.UserLocked} {
		w.sample("hero_codescalers_users", float64(byState[st]), "state", string(st))
	}
	w.family("hero_codescalers_home_quota_bytes", "gauge", "Each user's home quota in bytes (0: no limit).")
	for _, u := range users {
		w.sample("hero_codescalers_home_quota_bytes", float64(u.QuotaBytes), "user", u.Name)
	}
	if m.src.Plugins == nil {
		return
	}
	m.writeUsage(ctx, w, users)
}

// writeUsage reads each home's usage until the budget is spent.
func (m *Metrics) writeUsage(ctx context.Context, w writer, users []core.User) {
	ctx, cancel := context.WithTimeout(ctx, m.src.UsageBudget)
	defer cancel()
	deadline, _ := ctx.Deadline()
	w.family("hero_codescalers_home_used_bytes", "gauge", "Bytes each user's home uses, as the volumes plugin counts them.")
	truncated := 0.0
	for _, u := range users {
		if time.Now().After(deadline) {
			truncated = 1
			break
		}
		use, err := m.src.Service.UserUsage(ctx, u.Name)
		if err != nil {
			continue // a home the plugin cannot read now: left out
		}
		w.sample("hero_codescalers_home_used_bytes", float64(use.UsedBytes), "user", u.Name)
	}
	w.family("hero_codescalers_home_usage_truncated", "gauge", "1 when the usage budget ran out before every home was read.")
	w.sample("hero_codescalers_home_usage_truncated", truncated)
}

// writeSessions counts login sessions, as the sessions plugin sees them.
func (m *Metrics) writeSessions(ctx context.Context, w writer) {
	if m.src.Plugins == nil {
		return
	}
	list, err := m.src.Service.SessionList(ctx, "")
	if err != nil {
		m.src.Logger.Debug("metrics: cannot list sessions", "err", err)
		return
	}
	w.family("hero_codescalers_sessions", "gauge", "Login sessions of managed users.")
	w.sample("hero_codescalers_sessions", float64(len(list)))
}
