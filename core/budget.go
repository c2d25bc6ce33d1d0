package core

import "sync"

// CallerBudget bounds how many calls each caller who is not an admin may
// have in flight at once, over a transport that knows its callers (a Unix
// socket): otherwise one of them could hold every connection the
// transport allows, and the memory of their answers, until no admin could
// reach the host. Admins are not bounded. The zero value has no room; set
// Max.
type CallerBudget struct {
	Max int

	mu    sync.Mutex
	byUID map[int]int
}

// Take counts a call of c and returns what uncounts it, or false when c,
// not an admin, already has Max calls in flight.
func (b *CallerBudget) Take(c Caller) (release func(), ok bool) {
	if c.Privileged {
		return func() {}, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byUID == nil {
		b.byUID = map[int]int{}
	}
	if b.byUID[c.UID] >= b.Max {
		return nil, false
	}
	b.byUID[c.UID]++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.byUID[c.UID]--; b.byUID[c.UID] <= 0 {
			delete(b.byUID, c.UID)
		}
	}, true
}
