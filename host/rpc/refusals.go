package rpc

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// DefaultRefusalWindow is how long repeated refusals of one peer are
// folded into one audit record.
const DefaultRefusalWindow = 10 * time.Second

// maxRefusalRuns bounds the peers tracked at once. Unix peers are bounded
// by the machine's uids; once TCP peers are keyed by address there is no
// such bound, and the ones past this share one run per method.
const maxRefusalRuns = 4096

// maxFreshRefusals bounds the peers whose first refusal is recorded in
// full within one window, all peers together. Over TCP a peer is a /64,
// and whoever can make mycelium identities can come from any number of
// them: past this, a new peer's refusals are counted in the shared run
// of its method, recorded once per window, as beyond maxRefusalRuns.
const maxFreshRefusals = 64

// refusals folds repeated refused calls into counted audit records, so a
// caller hammering a method it may not call leaves a few records, not one
// per call. The first refusal of a peer and method is recorded at once
// and in full; the ones within the next window are only counted, and at
// the window's end one record says how many there were, from when to
// when. A peer that keeps going gets one record per window; one that
// stops leaves nothing pending. Successful calls never come here.
type refusals struct {
	window time.Duration
	record func(core.AuditEvent)

	mu     sync.Mutex
	runs   map[refusalKey]*refusalRun
	closed bool // flushed for good: record every refusal at once
	// fresh counts the peers recorded in full since freshSince, for
	// maxFreshRefusals.
	fresh      int
	freshSince time.Time
}

// refusalKey is a peer and a method. The peer is the caller's uid, not
// its pid: a flood from a script starting one CLI process per call would
// otherwise never fold. TCP callers will be keyed by address.
type refusalKey struct {
	peer   string
	method string
}

// refusalRun is one window of a peer's refusals.
type refusalRun struct {
	first  time.Time // of the refusals counted, the first
	count  int
	uid    int
	target string // the target of the counted calls, "" if they differ
	source string // the source of the counted calls, the peer key if they differ
	err    string
	timer  *time.Timer
}

func newRefusals(window time.Duration, record func(core.AuditEvent)) *refusals {
	return &refusals{window: window, record: record, runs: map[refusalKey]*refusalRun{}}
}

// admit reports whether ev, a refused call, is to be recorded now; if
// not, it has been counted into its peer's window.
func (r *refusals) admit(c core.Caller, ev core.AuditEvent) bool {
	return r.admitPeer("uid "+strconv.Itoa(c.UID), c.UID, ev)
}

// admitPeer is admit for a peer named by key (a uid, or a dashboard TCP
// source) with the uid to record (-1 over TCP).
func (r *refusals) admitPeer(peer string, uid int, ev core.AuditEvent) bool {
	key := refusalKey{peer: peer, method: ev.Method}
	c := core.Caller{UID: uid}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return true
	}
	run := r.runs[key]
	if now := time.Now(); now.Sub(r.freshSince) >= r.window {
		r.fresh, r.freshSince = 0, now
	}
	if run == nil && (len(r.runs) >= maxRefusalRuns || r.fresh >= maxFreshRefusals) {
		key.peer = "others"
		run = r.runs[key]
	}
	if run == nil {
		if key.peer != "others" {
			r.fresh++
		}
		r.open(key, &refusalRun{})
		return true
	}
	if run.count == 0 {
		run.first, run.uid, run.target, run.source = time.Now(), c.UID, ev.Target, ev.Source
	} else {
		if run.target != ev.Target {
			run.target = ""
		}
		if run.source != ev.Source {
			run.source = key.peer
		}
	}
	if run.uid != c.UID {
		run.uid = -1 // the shared run of many peers
	}
	run.count++
	run.err = ev.Error
	return false
}

// open starts a window for key. The caller holds r.mu.
func (r *refusals) open(key refusalKey, run *refusalRun) {
	r.runs[key] = run
	run.timer = time.AfterFunc(r.window, func() { r.close(key, run) })
}

// close ends run's window: it records the count if there is one and opens
// the next window, or forgets the peer when it has gone quiet.
func (r *refusals) close(key refusalKey, run *refusalRun) {
	r.mu.Lock()
	if r.runs[key] != run {
		r.mu.Unlock()
		return // flushed meanwhile
	}
	delete(r.runs, key)
	if run.count == 0 {
		r.mu.Unlock()
		return
	}
	ev := run.event(key.method)
	r.open(key, &refusalRun{})
	r.mu.Unlock()
	r.record(ev)
}

// flush records every pending count now and forgets every peer: at
// shutdown, so no count is lost. Refusals after it are recorded one by
// one, as no window would close after the state does.
func (r *refusals) flush() {
	r.mu.Lock()
	r.closed = true
	var evs []core.AuditEvent
	for key, run := range r.runs {
		run.timer.Stop()
		if run.count > 0 {
			evs = append(evs, run.event(key.method))
		}
		delete(r.runs, key)
	}
	r.mu.Unlock()
	for _, ev := range evs {
		r.record(ev)
	}
}

// event is the counted record of run.
func (run *refusalRun) event(method string) core.AuditEvent {
	return core.AuditEvent{
		ActorUID: run.uid, Source: run.source, Method: method, Target: run.target,
		Outcome: core.OutcomeError, Error: run.err,
		Count: run.count, Since: run.first.UTC(),
	}
}

// recordRefusals is the record function of a Server's refusals.
func (s *Server) recordRefusals(ev core.AuditEvent) {
	if _, err := s.auditor.AuditRecord(context.Background(), ev); err != nil {
		s.log.Error("rpc: cannot record an audit event", "method", ev.Method, "actor_uid", ev.ActorUID, "err", err)
	}
}

// RefusalFolder folds the refusals of another listener — the dashboard's
// refused TCP peers — the way the server folds its own: the first of a
// peer in full, the rest of each window as one counted record.
type RefusalFolder struct{ r *refusals }

// NewRefusalFolder folds into records written by record; window 0 is
// DefaultRefusalWindow.
func NewRefusalFolder(window time.Duration, record func(core.AuditEvent)) *RefusalFolder {
	if window <= 0 {
		window = DefaultRefusalWindow
	}
	return &RefusalFolder{r: newRefusals(window, record)}
}

// Admit reports whether ev, a refusal of the peer named peer, is to be
// recorded now; if not, the folder counts it and records the count at its
// window's end.
func (f *RefusalFolder) Admit(peer string, ev core.AuditEvent) bool {
	return f.r.admitPeer(peer, ev.ActorUID, ev)
}

// Flush records the counts pending, at shutdown.
func (f *RefusalFolder) Flush() { f.r.flush() }
