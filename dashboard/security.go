package dashboard

import (
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// csp allows nothing but the dashboard's own embedded script, style and
// images, forms posting to itself, and no framing: an injected tag could
// run nothing, load nothing from elsewhere, and send nothing away.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every answer carries, refusals
// included. Pages are never cached: they show who is logged in and what
// the machine holds.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), usb=(), payment=()")
	h.Set("Cache-Control", "no-store")
	if c.Request.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// RefusalLimiter decides which refused TCP requests are recorded. A flood
// of refused requests must not grow the audit log or the log without
// bound, while the first refusal of each source is always on record.
type RefusalLimiter interface {
	// Allow reports whether to record a refusal of peer now, and how many
	// refusals of its source went unrecorded since the last record.
	Allow(peer netip.Addr) (record bool, suppressed int)
}

// Limits of the default RefusalLimiter.
const (
	refusalWindow  = time.Minute
	refusalGlobal  = 30   // records per window over all sources
	refusalSources = 4096 // sources remembered before starting over
)

// refusalLimiter records one refusal per source per minute and at most
// refusalGlobal in all per minute. A source is an IPv4 address or an IPv6
// /64: mycelium hands every node a /64, so one attacker has 2^64
// addresses to spray from.
type refusalLimiter struct {
	now func() time.Time

	mu      sync.Mutex
	sources map[netip.Prefix]*refusalSource
	window  time.Time
	inWin   int
}

type refusalSource struct {
	last       time.Time
	suppressed int
}

// NewRefusalLimiter is the default limiter.
func NewRefusalLimiter() RefusalLimiter {
	return &refusalLimiter{now: time.Now, sources: map[netip.Prefix]*refusalSource{}}
}

func (l *refusalLimiter) Allow(peer netip.Addr) (bool, int) {
	bits := 32
	if peer.Is6() {
		bits = 64
	}
	key, _ := peer.Prefix(bits)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= refusalWindow {
		l.window, l.inWin = now, 0
	}
	s := l.sources[key]
	if s == nil {
		if len(l.sources) >= refusalSources {
			clear(l.sources)
		}
		s = &refusalSource{}
		l.sources[key] = s
	} else if now.Sub(s.last) < refusalWindow {
		s.suppressed++
		return false, 0
	}
	if l.inWin >= refusalGlobal {
		s.suppressed++
		return false, 0
	}
	l.inWin++
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}
