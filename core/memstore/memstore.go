// Package memstore is an in-memory core.Store for unit tests: the same
// transaction semantics as the Badger store (reads see the transaction's own
// writes; nothing is visible until commit) without a disk.
package memstore

import (
	"sort"
	"strings"
	"sync"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Store is a map guarded by a read-write lock. Update transactions are
// serialised, so there are never conflicts to retry.
type Store struct {
	mu     sync.RWMutex
	data   map[string][]byte
	closed bool
}

var _ core.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{data: map[string][]byte{}} }

// View runs fn on a snapshot-consistent read-only view.
func (s *Store) View(fn func(core.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return core.Errorf(core.Unavailable, "store closed")
	}
	return fn(&tx{base: s.data, readOnly: true})
}

// Update runs fn and applies its writes only when it returns nil.
func (s *Store) Update(fn func(core.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return core.Errorf(core.Unavailable, "store closed")
	}
	t := &tx{base: s.data, writes: map[string][]byte{}}
	if err := fn(t); err != nil {
		return err
	}
	for k, v := range t.writes {
		if v == nil {
			delete(s.data, k)
		} else {
			s.data[k] = v
		}
	}
	return nil
}

// Close marks the store closed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

type tx struct {
	base     map[string][]byte
	writes   map[string][]byte // nil value = deleted
	readOnly bool
}

func (t *tx) Get(key string) ([]byte, error) {
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return nil, core.ErrKeyNotFound
		}
		return append([]byte(nil), v...), nil
	}
	v, ok := t.base[key]
	if !ok {
		return nil, core.ErrKeyNotFound
	}
	return append([]byte(nil), v...), nil
}

func (t *tx) Set(key string, value []byte) error {
	if t.readOnly {
		return core.Errorf(core.Internal, "write in a read-only transaction")
	}
	t.writes[key] = append([]byte{}, value...)
	return nil
}

func (t *tx) Delete(key string) error {
	if t.readOnly {
		return core.Errorf(core.Internal, "write in a read-only transaction")
	}
	t.writes[key] = nil
	return nil
}

func (t *tx) Scan(prefix string, reverse bool, fn func(string, []byte) (bool, error)) error {
	keys := map[string]bool{}
	for k := range t.base {
		if strings.HasPrefix(k, prefix) {
			keys[k] = true
		}
	}
	for k, v := range t.writes {
		if strings.HasPrefix(k, prefix) {
			keys[k] = v != nil
		}
	}
	sorted := make([]string, 0, len(keys))
	for k, live := range keys {
		if live {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	if reverse {
		for i, j := 0, len(sorted)-1; i < j; i, j = i+1, j-1 {
			sorted[i], sorted[j] = sorted[j], sorted[i]
		}
	}
	for _, k := range sorted {
		v, _ := t.Get(k)
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
