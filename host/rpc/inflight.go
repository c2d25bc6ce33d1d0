package rpc

import (
	"context"
	"fmt"
	"net/http"
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

// inFlight is rpc.sock's budget of calls in flight per caller.
type inFlight struct{ budget core.CallerBudget }

// take counts a call of ctx's caller, or refuses it (Unavailable, saying
// why) when that caller, not an admin, already has maxInFlight in flight.
func (f *inFlight) take(ctx context.Context) (release func(), err error) {
	c, ok := core.CallerFrom(ctx)
	if !ok {
		c = unknownCaller
	}
	release, ok = f.budget.Take(c)
	if !ok {
		return nil, &core.Error{Code: core.Unavailable, Message: fmt.Sprintf(
			"uid %d has %d calls in flight, the most a caller who is not an admin may have; wait for their answers", c.UID, maxInFlight)}
	}
	return release, nil
}

// answerWithin bounds the writing of the answer (writeWithin from now)
// for a caller who is not an admin; an admin, not bounded in calls either,
// is not in a hurry to be cut off.
func answerWithin(ctx context.Context, w http.ResponseWriter) {
	if c, ok := core.CallerFrom(ctx); ok && c.Privileged {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeWithin))
}
