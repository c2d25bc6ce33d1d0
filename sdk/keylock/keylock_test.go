package keylock

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOneHolderPerKey: many goroutines on one key never overlap, and the
// map is empty once they are done.
func TestOneHolderPerKey(t *testing.T) {
	var m Map
	var inside atomic.Int32
	var overlap atomic.Bool
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			unlock := m.Lock("alice")
			if inside.Add(1) != 1 {
				overlap.Store(true)
			}
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if overlap.Load() {
		t.Error("two holders of one key at once")
	}
	if len(m.locks) != 0 {
		t.Errorf("%d locks left in the map", len(m.locks))
	}
}

// TestKeysIndependent: a held key does not block another key.
func TestKeysIndependent(t *testing.T) {
	var m Map
	unlock := m.Lock("alice")
	defer unlock()
	done := make(chan struct{})
	go func() { m.Lock("bob")(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("bob waited for alice's lock")
	}
}
