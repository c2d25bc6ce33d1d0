package metrics

import (
	"context"
	"time"
)

// writeFleet is the fleet as this node sees it, when it is in one: per
// node whether its announcements arrive, how many desired changes it has
// not applied yet (the convergence lag, in changes), the objects placed on
// it that are not as desired, and the age of its last announcement. A
// host in no fleet writes nothing here; one whose store does not answer
// says so in hero_codescalers_fleet_store_up.
func (m *Metrics) writeFleet(ctx context.Context, w writer) {
	st, err := m.src.Service.FleetStatusGet(ctx)
	if err != nil || !st.Info.InFleet {
		return
	}
	up := 1.0
	if st.Info.Store != "" && st.Info.Store != "ok" {
		up = 0
	}
	w.family("hero_codescalers_fleet_store_up", "gauge", "1 when this node reads the fleet's desired state, 0 when its store does not answer.")
	w.sample("hero_codescalers_fleet_store_up", up, "node", st.Info.Node, "role", st.Info.Role)
	now := time.Now()
	w.family("hero_codescalers_fleet_node_live", "gauge", "1 while the node's announcements arrive.")
	for _, n := range st.Nodes {
		w.sample("hero_codescalers_fleet_node_live", b2f(n.Live), "node", n.Name, "role", n.Role)
	}
	w.family("hero_codescalers_fleet_node_behind", "gauge", "Desired changes the node has not applied yet: its convergence lag.")
	for _, n := range st.Nodes {
		w.sample("hero_codescalers_fleet_node_behind", float64(n.Behind), "node", n.Name)
	}
	w.family("hero_codescalers_fleet_node_drift", "gauge", "Objects placed on the node that are not as desired (conflicts, clashes, failures).")
	for _, n := range st.Nodes {
		w.sample("hero_codescalers_fleet_node_drift", float64(n.Drift), "node", n.Name)
	}
	w.family("hero_codescalers_fleet_node_converged", "gauge", "1 when the node is live, behind by nothing and without drift.")
	for _, n := range st.Nodes {
		w.sample("hero_codescalers_fleet_node_converged", b2f(n.Converged), "node", n.Name)
	}
	w.family("hero_codescalers_fleet_node_last_seen_seconds", "gauge", "Seconds since the node's last announcement (absent: never seen).")
	for _, n := range st.Nodes {
		if !n.LastSeen.IsZero() {
			w.sample("hero_codescalers_fleet_node_last_seen_seconds", now.Sub(n.LastSeen).Seconds(), "node", n.Name)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
