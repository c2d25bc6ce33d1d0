// Package metrics serves the host's metrics in the Prometheus text
// format at /metrics (on admin.sock, and on the dashboard's TCP listener
// behind its whitelist): the API's calls and latencies by method and
// outcome, the create and delete steps' durations (what `stats` shows),
// the plugins' states and restarts, users by state, sessions, each
// home's quota and usage, and in a fleet each node's convergence lag.
//
// The format is written by hand (text.go): it is a few lines of
// "name{labels} value", and prometheus/client_golang would add its
// registry, protobuf descriptors and runtime collectors (some megabytes)
// to a server whose size is measured. Tests parse the output with
// prometheus/common/expfmt, the parser Prometheus itself uses.
package metrics

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Source is what the metrics are read from at each scrape.
type Source struct {
	Service *core.Service
	// Plugins lists the plugins; nil: a host without plugins.
	Plugins  func() []core.PluginInfo
	Version  string
	Instance int
	Started  time.Time
	Logger   *slog.Logger
	// UsageBudget bounds the time spent reading homes' usage from the
	// volumes plugin per scrape (default 2s); the homes not reached are
	// left out, and hero_codescalers_home_usage_truncated says so.
	UsageBudget time.Duration
}

// Metrics collects the API's calls and serves every metric.
type Metrics struct {
	src Source
	rpc rpcStats
}

// New returns the metrics of the host src describes.
func New(src Source) *Metrics {
	if src.UsageBudget <= 0 {
		src.UsageBudget = 2 * time.Second
	}
	if src.Logger == nil {
		src.Logger = slog.Default()
	}
	return &Metrics{src: src}
}

// ObserveRPC counts one call: its method, its outcome ("ok" or the error
// class) and how long it took. The JSON-RPC server calls it.
func (m *Metrics) ObserveRPC(method, outcome string, d time.Duration) {
	m.rpc.observe(method, outcome, d)
}

// ServeHTTP writes every metric.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	m.write(r.Context(), writer{bw})
	_ = bw.Flush()
}

func (m *Metrics) write(ctx context.Context, w writer) {
	w.family("hero_codescalers_build_info", "gauge", "The host's version and instance (always 1).")
	w.sample("hero_codescalers_build_info", 1, "version", m.src.Version, "instance", itoa(m.src.Instance))
	w.family("hero_codescalers_uptime_seconds", "gauge", "Seconds since the host started.")
	w.sample("hero_codescalers_uptime_seconds", time.Since(m.src.Started).Seconds())
	m.rpc.write(w)
	m.writeSteps(w)
	m.writePlugins(w)
	m.writeUsers(ctx, w)
	m.writeSessions(ctx, w)
	m.writeFleet(ctx, w)
}

// writeSteps is today's `stats` steps: count and total time per step.
func (m *Metrics) writeSteps(w writer) {
	steps := m.src.Service.StepTimes()
	names := make([]string, 0, len(steps))
	for n := range steps {
		names = append(names, n)
	}
	slices.Sort(names)
	w.family("hero_codescalers_step_duration_seconds", "summary", "Time the steps of user create and delete took, by operation and step, since the host started (successful steps).")
	for _, n := range names {
		op, step, _ := strings.Cut(n, ".")
		st := steps[n]
		w.sample("hero_codescalers_step_duration_seconds_sum", st.TotalMS/1000, "op", op, "step", step)
		w.sample("hero_codescalers_step_duration_seconds_count", float64(st.Count), "op", op, "step", step)
	}
}

// writePlugins is each concern's plugin: its state and restarts.
func (m *Metrics) writePlugins(w writer) {
	if m.src.Plugins == nil {
		return
	}
	ps := m.src.Plugins()
	w.family("hero_codescalers_plugin_up", "gauge", "1 when the concern's plugin is ready, 0 otherwise; state names its state.")
	for _, p := range ps {
		up := 0.0
		if p.State == core.PluginReady {
			up = 1
		}
		w.sample("hero_codescalers_plugin_up", up, "concern", p.Concern, "plugin", p.Name, "state", string(p.State))
	}
	w.family("hero_codescalers_plugin_restarts_total", "counter", "Times the manager restarted the concern's plugin after it died.")
	for _, p := range ps {
		w.sample("hero_codescalers_plugin_restarts_total", float64(p.Restarts), "concern", p.Concern, "plugin", p.Name)
	}
}

func itoa(n int) string { return strings.TrimSpace(formatFloat(float64(n))) }
