package sdk

import (
	"context"
	"runtime/metrics"
	"testing"
	"time"
)

// TestReleaseWhenIdle: after a burst of garbage and a quiet second, the
// free heap goes back to the OS (the runtime's released bytes rise).
func TestReleaseWhenIdle(t *testing.T) {
	released := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ReleaseWhenIdle(ctx)
	var keep [][]byte
	for range 64 {
		keep = append(keep, make([]byte, 256<<10)) // 16 MiB, then garbage
	}
	keep = nil
	before := released()
	deadline := time.Now().Add(10 * time.Second)
	for released() < before+8<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("released %d bytes in 10 s after a 16 MiB burst, want at least 8 MiB", released()-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = keep
}
