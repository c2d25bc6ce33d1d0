package core

import "sync"

// nameLocks serialises the use cases that act on one user, so two
// concurrent creates of one name give one winner and one AlreadyExists,
// while different names proceed in parallel.
type nameLocks struct {
	mu    sync.Mutex
	locks map[string]*nameLock
}

type nameLock struct {
	sync.Mutex
	refs int
}

// lock takes the lock of name and returns its release.
func (l *nameLocks) lock(name string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*nameLock{}
	}
	nl := l.locks[name]
	if nl == nil {
		nl = &nameLock{}
		l.locks[name] = nl
	}
	nl.refs++
	l.mu.Unlock()
	nl.Lock()
	return func() {
		nl.Unlock()
		l.mu.Lock()
		nl.refs--
		if nl.refs == 0 {
			delete(l.locks, name)
		}
		l.mu.Unlock()
	}
}
