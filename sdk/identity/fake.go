package identity

import (
	"context"
	"sync"
)

// Fake is an Identity for unit tests whose answers a test can change while
// it runs, e.g. to make a plugin turn unready.
type Fake struct {
	mu     sync.Mutex
	info   Info
	result ProbeResult
	err    error
}

var _ Identity = (*Fake)(nil)

// NewFake returns a ready Fake describing info.
func NewFake(info Info) *Fake { return &Fake{info: info, result: ProbeResult{Ready: true}} }

// SetProbe sets what Probe answers; a non-nil err makes both calls fail.
func (f *Fake) SetProbe(res ProbeResult, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.result, f.err = res, err
}

func (f *Fake) GetInfo(context.Context) (Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info, f.err
}

func (f *Fake) Probe(context.Context) (ProbeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.result, f.err
}
