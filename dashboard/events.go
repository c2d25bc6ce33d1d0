package dashboard

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// Live updates: while at least one page listens on /events, one poller
// looks every few seconds at what pages show live — the plugins' states,
// the counts, the sessions, the fleet's nodes and calls — and tells every stream the name of each
// topic that changed. A stream carries only topic names, never data: the
// page then fetches itself again, through the same access checks as any
// request.
//
// Streams are bounded apart from the listeners' connection cap (maxStreams
// at once; beyond that 503, and the page simply is not live), live at most
// streamLife (the browser reconnects), and end as soon as their peer is no
// longer admitted.

const (
	streamLife = 10 * time.Minute
	heartbeat  = 15 * time.Second
)

type hub struct {
	d    *Dashboard
	poll time.Duration
	sem  chan struct{}

	mu     sync.Mutex
	subs   map[chan string]struct{}
	last   map[string]uint64
	active bool
	closed chan struct{}
	once   sync.Once
}

func newHub(d *Dashboard, poll time.Duration, max int) *hub {
	return &hub{d: d, poll: poll, sem: make(chan struct{}, max), subs: map[chan string]struct{}{},
		last: map[string]uint64{}, closed: make(chan struct{})}
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

// subscribe adds a stream and starts the poller if it is the first.
func (h *hub) subscribe() chan string {
	ch := make(chan string, 8)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[ch] = struct{}{}
	if !h.active {
		h.active = true
		go h.run()
	}
	return ch
}

func (h *hub) unsubscribe(ch chan string) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// run polls until no stream is left.
func (h *hub) run() {
	t := time.NewTicker(h.poll)
	defer t.Stop()
	h.scan() // the baseline, so the first tick reports only changes
	for {
		select {
		case <-h.closed:
			return
		case <-t.C:
		}
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.active = false
			clear(h.last)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		for _, topic := range h.scan() {
			h.broadcast(topic)
		}
	}
}

// scan computes each topic's fingerprint and returns the topics that
// changed since the last scan.
func (h *hub) scan() []string {
	ctx, cancel := context.WithTimeout(context.Background(), h.poll)
	defer cancel()
	now := map[string]uint64{}
	now["plugins"] = fingerprint(h.d.pluginList())
	if c, err := h.d.svc.Counts(ctx); err == nil {
		now["counts"] = fingerprint(c)
	}
	if s, err := h.d.svc.SessionList(ctx, ""); err == nil {
		now["sessions"] = fingerprint(s)
	}
	if f, ok := h.d.fleetFingerprint(ctx); ok {
		now["fleet"] = f
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var changed []string
	for k, v := range now {
		if old, ok := h.last[k]; ok && old != v {
			changed = append(changed, k)
		}
		h.last[k] = v
	}
	return changed
}

func fingerprint(v any) uint64 {
	f := fnv.New64a()
	fmt.Fprintf(f, "%+v", v)
	return f.Sum64()
}

func (h *hub) broadcast(topic string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- topic:
		default: // a slow stream misses a tick; the next change reaches it
		}
	}
}

// events is the server-sent-events stream of topic names.
func (d *Dashboard) events(c *gin.Context) {
	if !d.allowed(c, api.MStats) {
		return
	}
	select {
	case d.hub.sem <- struct{}{}:
		defer func() { <-d.hub.sem }()
	default:
		c.Header("Retry-After", "30")
		c.String(http.StatusServiceUnavailable, "too many live streams; the page works without live updates\n")
		return
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	c.Header("Content-Type", "text/event-stream")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	ch := d.hub.subscribe()
	defer d.hub.unsubscribe(ch)
	want := strings.Fields(strings.ReplaceAll(c.Query("topics"), ",", " "))
	ctx := c.Request.Context()
	life := time.NewTimer(streamLife)
	defer life.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	if _, err := fmt.Fprint(c.Writer, "retry: 3000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	for {
		var msg string
		select {
		case <-ctx.Done():
			return
		case <-d.hub.closed:
			return
		case <-life.C:
			return
		case <-beat.C:
			msg = ": ping\n\n"
		case topic := <-ch:
			if len(want) > 0 && !contains(want, topic) {
				continue
			}
			msg = "event: change\ndata: " + topic + "\n\n"
		}
		if !d.stillAdmitted(c) {
			return
		}
		if _, err := fmt.Fprint(c.Writer, msg); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// stillAdmitted re-applies the whitelist to a stream's TCP peer, so an
// address taken off the list stops hearing anything at once.
func (d *Dashboard) stillAdmitted(c *gin.Context) bool {
	w := whoOf(c)
	if w.transport != TCP {
		return true
	}
	ok, _ := d.tcpAdmits(c, w.peer)
	return ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
