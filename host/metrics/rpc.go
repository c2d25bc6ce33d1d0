package metrics

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// buckets are the latency histogram's upper bounds, in seconds: a health
// call takes tens of microseconds, a create tens of milliseconds, a batch
// of a thousand users seconds.
var buckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// callKey is a method and how its calls ended.
type callKey struct{ method, outcome string }

// histogram counts one method and outcome's calls by latency.
type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

// rpcStats counts the API's calls. Methods come from the method table
// only (an unknown name is never a label), so the label sets stay few.
type rpcStats struct {
	mu sync.Mutex
	m  map[callKey]*histogram
}

func (s *rpcStats) observe(method, outcome string, d time.Duration) {
	secs := d.Seconds()
	i, _ := slices.BinarySearch(buckets, secs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[callKey]*histogram{}
	}
	h := s.m[callKey{method, outcome}]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets)+1)}
		s.m[callKey{method, outcome}] = h
	}
	h.counts[i]++
	h.sum += secs
	h.n++
}

// write writes the call counter and the latency histogram.
func (s *rpcStats) write(w writer) {
	s.mu.Lock()
	keys := make([]callKey, 0, len(s.m))
	snap := make(map[callKey]histogram, len(s.m))
	for k, h := range s.m {
		keys = append(keys, k)
		snap[k] = histogram{counts: slices.Clone(h.counts), sum: h.sum, n: h.n}
	}
	s.mu.Unlock()
	slices.SortFunc(keys, func(a, b callKey) int {
		if a.method != b.method {
			return compare(a.method, b.method)
		}
		return compare(a.outcome, b.outcome)
	})
	w.family("hero_codescalers_rpc_calls_total", "counter", "JSON-RPC calls by method and outcome (ok, or the error class: invalid, not_found, already_exists, forbidden, failed_precondition, plugin_unavailable, os_command_failed, internal).")
	for _, k := range keys {
		w.sample("hero_codescalers_rpc_calls_total", float64(snap[k].n), "method", k.method, "outcome", k.outcome)
	}
	w.family("hero_codescalers_rpc_duration_seconds", "histogram", "JSON-RPC call latency by method and outcome.")
	for _, k := range keys {
		h := snap[k]
		var cum uint64
		for i, le := range buckets {
			cum += h.counts[i]
			w.sample("hero_codescalers_rpc_duration_seconds_bucket", float64(cum), "method", k.method, "outcome", k.outcome, "le", strconv.FormatFloat(le, 'g', -1, 64))
		}
		w.sample("hero_codescalers_rpc_duration_seconds_bucket", float64(h.n), "method", k.method, "outcome", k.outcome, "le", "+Inf")
		w.sample("hero_codescalers_rpc_duration_seconds_sum", h.sum, "method", k.method, "outcome", k.outcome)
		w.sample("hero_codescalers_rpc_duration_seconds_count", float64(h.n), "method", k.method, "outcome", k.outcome)
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
