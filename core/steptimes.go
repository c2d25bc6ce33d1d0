package core

import (
	"maps"
	"sync"
	"time"
)

// StepTime is how often a step of a use case ran to success since the
// host started, and how long it took in all: what `stats` shows an admin
// who wants to know where a create's time goes.
type StepTime struct {
	Count   int64   `json:"count"`
	TotalMS float64 `json:"total_ms"`
}

// stepTimes sums the durations of successful steps by "op.step".
type stepTimes struct {
	mu sync.Mutex
	m  map[string]StepTime
}

func (t *stepTimes) add(name string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]StepTime{}
	}
	st := t.m[name]
	st.Count++
	st.TotalMS += float64(d) / float64(time.Millisecond)
	t.m[name] = st
}

// StepTimes returns a copy of the step durations summed since start, by
// "create.account", "create.volume", ..., "create.sync", "delete.volume".
func (s *Service) StepTimes() map[string]StepTime {
	s.steps.mu.Lock()
	defer s.steps.mu.Unlock()
	return maps.Clone(s.steps.m)
}
