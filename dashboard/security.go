package dashboard

import (
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
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

// RefusalFolder decides which refused TCP requests are recorded at once.
// A flood of refused requests must not grow the audit log or the log
// without bound, while the first refusal of each source is always on
// record. The host passes rpc.sock's folding (rpc.RefusalFolder), which
// records a counted event for the rest of each window itself.
type RefusalFolder interface {
	// Admit reports whether to record ev, a refusal of the source named
	// peer, now; if not it is counted, and the folder records the count.
	Admit(peer string, ev core.AuditEvent) bool
}

// refusalSource is the key a refused peer is folded by: an IPv4 address,
// or an IPv6 /64 — mycelium hands every node a /64, so one attacker has
// 2^64 addresses to spray from.
func refusalSource(peer netip.Addr) string {
	bits := 32
	if peer.Is6() {
		bits = 64
	}
	p, _ := peer.Prefix(bits)
	if bits == 32 {
		return p.Addr().String()
	}
	return p.String()
}

// Limits of the fallback folder.
const (
	refusalWindow  = time.Minute
	refusalGlobal  = 30   // records per window over all sources
	refusalSources = 4096 // sources remembered before starting over
)

// refusalLimiter is the folder when the host gives none (tests, a
// dashboard on its own): one record per source per minute, at most
// refusalGlobal a minute in all; the next record of a source says how
// many went unrecorded.
type refusalLimiter struct {
	now func() time.Time

	mu      sync.Mutex
	sources map[string]*refusalSeen
	window  time.Time
	inWin   int
}

type refusalSeen struct {
	last       time.Time
	suppressed int
}

func newRefusalLimiter() *refusalLimiter {
	return &refusalLimiter{now: time.Now, sources: map[string]*refusalSeen{}}
}

func (l *refusalLimiter) Admit(peer string, ev core.AuditEvent) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= refusalWindow {
		l.window, l.inWin = now, 0
	}
	s := l.sources[peer]
	if s == nil {
		if len(l.sources) >= refusalSources {
			clear(l.sources)
		}
		s = &refusalSeen{}
		l.sources[peer] = s
	} else if now.Sub(s.last) < refusalWindow {
		s.suppressed++
		return false
	}
	if l.inWin >= refusalGlobal {
		s.suppressed++
		return false
	}
	l.inWin++
	s.last, s.suppressed = now, 0
	return true
}
