package sdk

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A daemon of this project is idle most of the time, between bursts (a
// create, a 1,000-user batch, a dashboard page). After a burst the Go
// runtime keeps the freed heap for a while and hands it back to the OS
// slowly, so an idle process sits well above its live heap. ReleaseWhenIdle
// hands it back once per burst, as soon as the burst is over.

// Its thresholds: a burst is at least releaseAfter bytes allocated since
// the last release; it is over after a tick in which under quietBelow
// bytes were allocated (a health probe, a sweep).
const (
	idleTick     = time.Second
	releaseAfter = 4 << 20
	quietBelow   = 512 << 10
)

// ReleaseWhenIdle runs until ctx ends: every second it reads how much the
// process allocated, and after a burst followed by a quiet second it
// returns the free heap to the OS (debug.FreeOSMemory: one collection).
// The host and every plugin served by Serve run it.
func ReleaseWhenIdle(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(idleTick)
	defer t.Stop()
	released := allocated()
	last := released
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := allocated()
		if now-last < quietBelow && now-released >= releaseAfter {
			debug.FreeOSMemory()
			now = allocated()
			released = now
		}
		last = now
	}
}
