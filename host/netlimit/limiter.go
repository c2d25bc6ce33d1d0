package netlimit

import (
	"container/list"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// warnEvery bounds the "cap reached" warning to one line per interval
// however hard the flood: the log must not become the next thing a flood
// fills.
const warnEvery = time.Minute

// Limiter is one connection budget, shared by the listeners it wraps.
// It is safe for concurrent use.
type Limiter struct {
	name string
	max  int
	// soft is where eviction starts: above it, each new connection closes
	// the connection quiet longest, so newcomers find a free slot at once
	// rather than waiting for an eviction to land.
	soft int
	log  *slog.Logger

	mu   sync.Mutex
	cond *sync.Cond // signalled when a slot frees
	open int
	// quiet holds the *conn with no request in flight, quiet longest
	// first: the ones to close when room is needed.
	quiet    list.List
	evicted  int       // since lastWarn
	lastWarn time.Time // the last warning, or when l was made
	warned   bool
}

// Options name a Limiter in its log lines.
type Options struct {
	// Name is the listener as an admin knows it, e.g. "rpc.sock".
	Name   string
	Logger *slog.Logger
}

// New returns a budget of max concurrent connections; max < 1 means
// DefaultMax().
func New(max int, o Options) *Limiter {
	if max < 1 {
		max = DefaultMax()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	l := &Limiter{name: o.Name, max: max, soft: max - max/8, log: o.Logger, lastWarn: time.Now()}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Max is the budget.
func (l *Limiter) Max() int { return l.max }

// Open is how many connections hold a slot now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Attach makes hs report its connections' states to l, keeping any
// ConnState hook hs already has. Serve hs on listeners from l.Listener.
func (l *Limiter) Attach(hs *http.Server) {
	prev := hs.ConnState
	hs.ConnState = func(c net.Conn, s http.ConnState) {
		l.ConnState(c, s)
		if prev != nil {
			prev(c, s)
		}
	}
}

// Listener wraps ln so that its connections count against l.
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	return &listener{Listener: ln, l: l}
}

// ConnState is the http.Server hook (see Attach): a connection between
// requests, or accepted and not yet speaking, may be closed for room; one
// with a request in flight, or hijacked, may not.
func (l *Limiter) ConnState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*conn)
	for range 4 { // under a TLS layer (tls.Conn) or another wrapper
		if ok {
			break
		}
		inner, wraps := nc.(interface{ NetConn() net.Conn })
		if !wraps {
			break
		}
		nc = inner.NetConn()
		c, ok = nc.(*conn)
	}
	if !ok || c.l != l {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.released {
		return
	}
	switch s {
	case http.StateNew, http.StateIdle:
		if c.elem == nil {
			c.elem = l.quiet.PushBack(c)
		} else {
			l.quiet.MoveToBack(c.elem)
		}
	case http.StateActive, http.StateHijacked:
		l.unquiet(c)
	case http.StateClosed:
		l.releaseLocked(c)
	}
}

// take waits for a slot for a connection ln just accepted and reports
// whether it got one (false: ln was closed meanwhile). Quiet connections
// are closed to make room; only when every slot has a request in flight
// does it wait.
func (l *Limiter) take(ln *listener) bool {
	var victims []net.Conn
	l.mu.Lock()
	for l.open >= l.max && !ln.closed {
		if v := l.evictLocked(); v != nil {
			victims = append(victims, v)
			continue
		}
		l.cond.Wait()
	}
	ok := !ln.closed
	if ok {
		l.open++
		for l.open > l.soft {
			v := l.evictLocked()
			if v == nil {
				break
			}
			victims = append(victims, v)
		}
	}
	warn, over := l.noteLocked(len(victims))
	l.mu.Unlock()
	for _, v := range victims {
		v.Close()
	}
	if warn > 0 {
		l.log.Warn("near the connection cap: closing the connections quiet longest",
			"listener", l.name, "max", l.max, "closed", warn, "over", over.Round(time.Millisecond).String())
	}
	return ok
}

// evictLocked frees the slot of the connection quiet longest and returns
// what to close once l.mu is released, or nil when none is quiet.
func (l *Limiter) evictLocked() net.Conn {
	front := l.quiet.Front()
	if front == nil {
		return nil
	}
	c := front.Value.(*conn)
	l.releaseLocked(c)
	return c.Conn
}

// noteLocked counts evictions and returns how many to report now and
// over how long (0: not yet time to warn again).
func (l *Limiter) noteLocked(n int) (int, time.Duration) {
	l.evicted += n
	now := time.Now()
	if l.evicted == 0 || (l.warned && now.Sub(l.lastWarn) < warnEvery) {
		return 0, 0
	}
	n, over := l.evicted, now.Sub(l.lastWarn)
	l.evicted, l.lastWarn, l.warned = 0, now, true
	return n, over
}

func (l *Limiter) unquiet(c *conn) {
	if c.elem != nil {
		l.quiet.Remove(c.elem)
		c.elem = nil
	}
}

// releaseLocked gives c's slot back, once.
func (l *Limiter) releaseLocked(c *conn) {
	if c.released {
		return
	}
	c.released = true
	l.unquiet(c)
	l.open--
	l.cond.Signal()
}

// listener is a net.Listener whose connections hold a slot of l.
type listener struct {
	net.Listener
	l      *Limiter
	closed bool // guarded by l.mu
}

// Accept takes the next connection from the kernel, then a slot for it:
// the clients past the cap wait in the kernel's backlog, not in the
// host's file table.
func (ln *listener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !ln.l.take(ln) {
		c.Close()
		return nil, net.ErrClosed
	}
	return &conn{Conn: c, l: ln.l}, nil
}

// Close closes the listener and wakes an Accept waiting for a slot.
func (ln *listener) Close() error {
	ln.l.mu.Lock()
	ln.closed = true
	ln.l.cond.Broadcast()
	ln.l.mu.Unlock()
	return ln.Listener.Close()
}

// conn is an accepted connection holding a slot until it is closed.
type conn struct {
	net.Conn
	l        *Limiter
	elem     *list.Element // in l.quiet while quiet; guarded by l.mu
	released bool          // guarded by l.mu
}

// NetConn is the connection underneath, as tls.Conn has it: what reads
// the peer's credentials (SO_PEERCRED) unwraps to.
func (c *conn) NetConn() net.Conn { return c.Conn }

// Close gives the slot back and closes the connection.
func (c *conn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
