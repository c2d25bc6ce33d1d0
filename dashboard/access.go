package dashboard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// who is the identity a request was admitted with.
type who struct {
	transport Transport
	// caller is SO_PEERCRED's on admin.sock, with Privileged from the
	// policy; over TCP an admitted peer is privileged and has no uid.
	caller core.Caller
	peer   netip.Addr
}

// source is what the audit log records as where a call came from.
func (w who) source() string {
	if w.transport == Unix {
		return "admin.sock"
	}
	return w.peer.String()
}

// String is how the page footer names the visitor.
func (w who) String() string {
	if w.transport == Unix {
		s := "uid " + strconv.Itoa(w.caller.UID) + " on admin.sock"
		if !w.caller.Privileged {
			s += " (read-only: not privileged)"
		}
		return s
	}
	return w.peer.String() + " over TCP"
}

const whoKey = "hc.who"

func whoOf(c *gin.Context) who {
	w, _ := c.Get(whoKey)
	v, _ := w.(who)
	return v
}

// checkHost refuses a Host header that is a DNS name other than
// localhost. A page from an attacker's site whose name is re-bound to this
// node's address (DNS rebinding) would otherwise be same-origin with the
// dashboard in the admin's browser, and read pages or post forms from an
// admitted address. An IP literal or localhost cannot be re-bound.
func (d *Dashboard) checkHost(c *gin.Context) {
	host := c.Request.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil || strings.EqualFold(host, "localhost") {
		c.Next()
		return
	}
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.String(http.StatusMisdirectedRequest, "421: open the dashboard by its IP address (or localhost through a tunnel), not by a DNS name\n")
	c.Abort()
}

// unixInFlight is how many requests (a live-update stream is one) a
// caller who is not an admin may have in flight on admin.sock: a few
// browser tabs' worth, and far from the socket's connection budget, so
// one socket-group member cannot hold every connection or stream.
const unixInFlight = 8

// admit decides who the request is from and whether it may see anything
// at all: on admin.sock everyone the socket's mode lets in; over TCP only
// a whitelisted peer (or anyone under --dashboard-open).
func (d *Dashboard) admit(c *gin.Context) {
	if transportOf(c.Request) == Unix {
		caller, ok := core.CallerFrom(c.Request.Context())
		if !ok {
			d.refuse(c, http.StatusForbidden, "The caller's credentials could not be read.")
			return
		}
		caller.Privileged = d.cfg.Policy.Privileged(caller)
		release, ok := d.unixBudget.Take(caller)
		if !ok {
			d.refuse(c, http.StatusTooManyRequests, fmt.Sprintf(
				"uid %d has %d requests in flight (live updates included), the most a caller who is not an admin may have.", caller.UID, unixInFlight))
			return
		}
		defer release()
		c.Set(whoKey, who{transport: Unix, caller: caller})
		c.Next()
		return
	}
	peer, err := netip.ParseAddrPort(c.Request.RemoteAddr)
	if err != nil {
		d.refuse(c, http.StatusForbidden, "The peer address could not be read.")
		return
	}
	addr := peer.Addr().Unmap().WithZone("")
	if ok, why := d.tcpAdmits(c, addr); !ok {
		d.refusePeer(c, addr, why)
		return
	}
	c.Set(whoKey, who{transport: TCP, caller: core.Caller{UID: -1, GID: -1, Privileged: true}, peer: addr})
	c.Next()
}

// tcpAdmits applies the whitelist to a TCP peer; why says what refused it.
func (d *Dashboard) tcpAdmits(c *gin.Context, addr netip.Addr) (bool, string) {
	if d.cfg.Open {
		return true, ""
	}
	list, err := d.svc.WhitelistGet(c.Request.Context())
	switch {
	case err != nil:
		d.log.Error("dashboard: cannot read the whitelist; refusing TCP", "err", err)
		return false, "the whitelist could not be read"
	case len(list) == 0:
		return false, "the whitelist is empty"
	case !core.WhitelistAllows(list, addr):
		return false, "not in the whitelist"
	}
	return true, ""
}

// refusePeer answers a refused TCP peer with 403 and, rate-limited per
// source, one audit record and one log line.
func (d *Dashboard) refusePeer(c *gin.Context, addr netip.Addr, why string) {
	ev := core.AuditEvent{ActorUID: -1, Source: addr.String(), Method: MRefused, Target: c.Request.URL.Path,
		Outcome: core.OutcomeError, Error: why}
	if len(ev.Target) > 128 {
		ev.Target = ev.Target[:128] + "…"
	}
	if d.cfg.Refusals.Admit(refusalSource(addr), ev) {
		d.log.Warn("dashboard: refused a TCP peer", "peer", addr, "reason", why, "path", ev.Target)
		if _, err := d.svc.AuditRecord(context.WithoutCancel(c.Request.Context()), ev); err != nil {
			d.log.Error("dashboard: cannot record an audit event", "method", MRefused, "source", ev.Source, "err", err)
		}
	}
	text := "Your address " + addr.String() + " is not on this node's dashboard whitelist."
	if why == "the whitelist is empty" {
		text = "The dashboard's whitelist is empty, so it serves nothing over TCP."
	}
	// The connection ends with the answer: net/http would otherwise read
	// the rest of a body the peer announced (up to 256 KiB, for up to the
	// read timeout), so a refused peer sending one byte a while could hold
	// every connection slot.
	c.Header("Connection", "close")
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now())
	d.refuse(c, http.StatusForbidden, text)
}

// MRefused is the audit method of a refused TCP request.
const MRefused = "dashboard.refused"

// refuse writes the one page a refused request gets: no data, only how to
// get access.
func (d *Dashboard) refuse(c *gin.Context, status int, text string) {
	d.html(c, status, "refused", page{Title: "Access refused", Body: refusedBody{Text: text}})
	c.Abort()
}

type refusedBody struct{ Text string }

// crossOrigin refuses a state-changing request a browser made from another
// origin (http.CrossOriginProtection: Sec-Fetch-Site, else Origin against
// Host). Requests without those headers — curl over admin.sock — pass.
// A change's form is bounded (maxForm, key uploads included) before it is
// read.
func (d *Dashboard) crossOrigin(c *gin.Context) {
	if err := d.cop.Check(c.Request); err != nil {
		d.failPage(c, http.StatusForbidden, "Refused a cross-origin request: changes can only be made from the dashboard's own pages.")
		c.Abort()
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxForm)
	}
	c.Next()
}

// allowed reports whether the visitor may call method, and when not,
// answers 403 with who may: the rule of rpc.sock, from the method table.
func (d *Dashboard) allowed(c *gin.Context, method string) bool {
	m, ok := api.Lookup(method)
	if !ok {
		d.failPage(c, http.StatusInternalServerError, "unknown method "+method)
		return false
	}
	w := whoOf(c)
	if m.Allowed(w.caller) {
		return true
	}
	d.failErr(c, api.Forbidden(method, w.caller, d.cfg.Policy.Requirement()))
	return false
}
