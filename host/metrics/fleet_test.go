package metrics

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
)

// twoNodes is a fleet backend of two nodes: n1 has applied every desired
// change; n2 last announced an hour ago, behind by the user written after
// its revision, with one object in drift.
type twoNodes struct {
	core.FleetBackend // nil: any other method panics
	inFleet           bool
}

func (f twoNodes) Info(context.Context) core.FleetInfo {
	return core.FleetInfo{InFleet: f.inFleet, Node: "n1", Role: "replica", Store: "ok"}
}

func (twoNodes) Members(context.Context) ([]core.Member, error) {
	return []core.Member{{Name: "n1", ID: "a", Role: "replica", Revision: 1}, {Name: "n2", ID: "b", Role: "leaf", Revision: 2}}, nil
}

func (twoNodes) Announcements(context.Context) (map[string]core.NodeAnnounce, error) {
	now := time.Now()
	return map[string]core.NodeAnnounce{
		"n1": {Name: "n1", Seen: now, Applied: 5},
		"n2": {Name: "n2", Seen: now.Add(-time.Hour), Applied: 3, Drift: 1},
	}, nil
}

func (twoNodes) Users(context.Context) ([]core.FleetUser, error) {
	return []core.FleetUser{{Name: "alice", Revision: 4}, {Name: "bob", Revision: 5}}, nil
}

func (twoNodes) Groups(context.Context) ([]core.FleetGroup, error) { return nil, nil }

func scrapeFleet(t *testing.T, f core.FleetBackend) map[string]*dto.MetricFamily {
	t.Helper()
	m := New(Source{Service: core.NewService(memstore.New(), core.WithFleet(f)), Started: time.Now()})
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, rec.Body)
	}
	return fams
}

func gauge(t *testing.T, fams map[string]*dto.MetricFamily, name, node string) float64 {
	t.Helper()
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "node" && l.GetValue() == node {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("%s{node=%q} missing", name, node)
	return 0
}

// TestFleetMetrics: in a fleet, each node's liveness, convergence lag
// (desired changes not applied), drift and convergence; outside one,
// no fleet family at all.
func TestFleetMetrics(t *testing.T) {
	fams := scrapeFleet(t, twoNodes{inFleet: true})
	for _, c := range []struct {
		name, node string
		want       float64
	}{
		{"hero_codescalers_fleet_node_live", "n1", 1}, {"hero_codescalers_fleet_node_live", "n2", 0},
		{"hero_codescalers_fleet_node_behind", "n1", 0}, {"hero_codescalers_fleet_node_behind", "n2", 2},
		{"hero_codescalers_fleet_node_drift", "n2", 1},
		{"hero_codescalers_fleet_node_converged", "n1", 1}, {"hero_codescalers_fleet_node_converged", "n2", 0},
		{"hero_codescalers_fleet_store_up", "n1", 1},
	} {
		if got := gauge(t, fams, c.name, c.node); got != c.want {
			t.Errorf("%s{node=%s} = %v, want %v", c.name, c.node, got, c.want)
		}
	}
	if age := gauge(t, fams, "hero_codescalers_fleet_node_last_seen_seconds", "n2"); age < 3500 {
		t.Errorf("n2 last seen %v s ago, want about an hour", age)
	}

	fams = scrapeFleet(t, twoNodes{inFleet: false})
	for name := range fams {
		if strings.HasPrefix(name, "hero_codescalers_fleet") {
			t.Errorf("outside a fleet /metrics has %s", name)
		}
	}
}
