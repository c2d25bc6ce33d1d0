// Package keylock serialises work per key — a user name, a directory —
// while work on different keys runs in parallel. The host calls a plugin
// concurrently (a batch create runs several users at once), so a plugin
// that reads, changes and rewrites a user's files needs exactly this: one
// lock per file set, not one for the whole plugin.
package keylock

import "sync"

// Map holds one lock per key in use; the zero value is ready. A key's lock
// is dropped when nobody holds or waits for it, so the map stays as small
// as the work in flight.
type Map struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	sync.Mutex
	refs int
}

// Lock takes the lock of key and returns its release.
func (m *Map) Lock(key string) (unlock func()) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*entry{}
	}
	e := m.locks[key]
	if e == nil {
		e = &entry{}
		m.locks[key] = e
	}
	e.refs++
	m.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		m.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
}
