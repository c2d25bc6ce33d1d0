package rpc

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// A caller who is not an admin may have only so many calls in flight at
// once, and every answer must be taken within a bound: otherwise one
// socket-group member could send big batches on many connections and
// never read the answers, holding every connection slot (which only a
// quiet connection gives up) and megabytes of memory each, until root
// itself could not reach the host.
const (
	// maxInFlight is how many calls one unprivileged uid may have in
	// flight; privileged callers have no such bound.
	maxInFlight = 16
	// writeWithin is how long a caller has to take an answer once it is
	// made; a connection whose reader stalls longer is closed.
	writeWithin = 15 * time.Second
)

// inFlight counts the calls in flight per unprivileged uid.
type inFlight struct {
	mu    sync.Mutex
	byUID map[int]int
}

// take counts a call of ctx's caller, or refuses it when that caller, not
// an admin, already has maxInFlight calls in flight. release uncounts it.
func (f *inFlight) take(ctx context.Context) (release func(), err error) {
	c, ok := core.CallerFrom(ctx)
	if ok && c.Privileged {
		return func() {}, nil
	}
	uid := -1
	if ok {
		uid = c.UID
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byUID == nil {
		f.byUID = map[int]int{}
	}
	if f.byUID[uid] >= maxInFlight {
		return nil, &core.Error{Code: core.Unavailable, Message: fmt.Sprintf(
			"uid %d has %d calls in flight, the most a caller who is not an admin may have; wait for their answers", uid, maxInFlight)}
	}
	f.byUID[uid]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.byUID[uid]--; f.byUID[uid] <= 0 {
			delete(f.byUID, uid)
		}
	}, nil
}

// answerWithin bounds the writing of the answer (writeWithin from now).
func answerWithin(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeWithin))
}
