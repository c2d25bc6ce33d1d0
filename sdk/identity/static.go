package identity

import (
	"context"
)

// Static answers from fixed Info and a probe function; sdk.Serve serves one
// built from the plugin's Config. With ProbeFunc nil the plugin is ready.
type Static struct {
	Info      Info
	ProbeFunc func(ctx context.Context) ProbeResult
}

var _ Identity = (*Static)(nil)

func (s *Static) GetInfo(context.Context) (Info, error) { return s.Info, nil }

func (s *Static) Probe(ctx context.Context) (ProbeResult, error) {
	if s.ProbeFunc == nil {
		return ProbeResult{Ready: true}, nil
	}
	return s.ProbeFunc(ctx), nil
}
