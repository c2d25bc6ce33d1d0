package dashboard

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// every route, for the checks that hold for all of them.
var everyGET = []string{"/", "/users", "/users/new", "/users/alice", "/sessions", "/groups", "/groups/devs", "/fleet",
	"/plugins", "/admin", "/audit", "/events", "/assets/app.css", "/nope"}

var everyPOST = []string{"/users", "/users/alice/delete", "/users/alice/reset", "/users/alice/lock", "/users/alice/unlock",
	"/users/alice/keys", "/users/alice/keys/remove", "/users/alice/quota", "/sessions/kill", "/groups",
	"/groups/devs/delete", "/groups/devs/members", "/groups/devs/members/remove", "/plugins/sessions/approve",
	"/admin/whitelist/add", "/admin/whitelist/remove", "/admin/whitelist/clear"}

func (fx *fixture) whitelist(addrs ...string) {
	fx.t.Helper()
	if _, err := fx.svc.WhitelistSet(context.Background(), addrs); err != nil {
		fx.t.Fatal(err)
	}
}

// TestTCPEmptyWhitelistServesNothing: with no whitelist every TCP request,
// on every URL and method, is 403 with the page saying how to add an
// address, and carries no data.
func TestTCPEmptyWhitelistServesNothing(t *testing.T) {
	fx := newFixture(t)
	if _, err := fx.svc.UserCreate(context.Background(), core.CreateSpec{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range everyGET {
		w := fx.do(req{peer: "[400::2]:41000", path: p})
		if w.Code != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", p, w.Code)
		}
		wantIn(t, w.Body.String(), "whitelist is empty", "hero_codescalers whitelist-add ADDR")
		if strings.Contains(w.Body.String(), "alice") {
			t.Errorf("GET %s leaks data to a refused peer", p)
		}
	}
	for _, p := range everyPOST {
		if w := fx.do(req{peer: "[400::2]:41000", path: p, form: url.Values{"name": {"mallory"}}}); w.Code != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", p, w.Code)
		}
	}
	if _, err := fx.svc.UserGet(context.Background(), "mallory"); err == nil {
		t.Fatal("a refused peer created a user")
	}
	// admin.sock always works
	fx.get("/users/alice")
}

// TestTCPWhitelist: a listed peer (address or prefix) gets the pages and is
// an admin; another gets 403, and a forged X-Forwarded-For naming a listed
// address changes nothing: the TCP peer decides.
func TestTCPWhitelist(t *testing.T) {
	fx := newFixture(t)
	fx.whitelist("400::2", "10.9.0.0/16")
	for _, peer := range []string{"[400::2]:5", "10.9.3.4:7", "[::ffff:10.9.3.4]:7"} {
		if w := fx.do(req{peer: peer, path: "/admin"}); w.Code != http.StatusOK {
			t.Errorf("%s: %d, want 200", peer, w.Code)
		}
	}
	w := fx.do(req{peer: "[400::2]:5", path: "/admin/whitelist/add", form: url.Values{"address": {"400::3"}}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("whitelisted POST: %d %s", w.Code, w.Body)
	}
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded", "CF-Connecting-IP", "True-Client-IP"} {
		w := fx.do(req{peer: "[400::9]:5", path: "/", header: map[string]string{h: "400::2"}})
		if w.Code != http.StatusForbidden {
			t.Errorf("forged %s: %d, want 403", h, w.Code)
		}
	}
	if w := fx.do(req{peer: "[400::9]:5", path: "/users"}); w.Code != http.StatusForbidden {
		t.Errorf("unlisted peer: %d", w.Code)
	}
	ev := fx.audit()
	if ev[len(ev)-1].Method != "admin.whitelist.set" || ev[len(ev)-1].Source != "400::2" || ev[len(ev)-1].ActorUID != -1 {
		t.Errorf("the TCP change's audit record: %+v", ev[len(ev)-1])
	}
}

// TestDashboardOpen: --dashboard-open admits any TCP peer with an empty
// list, under a red banner on every page.
func TestDashboardOpen(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.Open = true })
	w := fx.do(req{peer: "[400::77]:5", path: "/users"})
	if w.Code != http.StatusOK {
		t.Fatalf("open: %d", w.Code)
	}
	wantIn(t, w.Body.String(), "banner red", "--dashboard-open")
	wantIn(t, fx.get("/"), "banner red")
}

// TestRefusalAuditIsRateLimited: a flood of refused requests from one
// source, even from many addresses of its /64, leaves one audit record.
func TestRefusalAuditIsRateLimited(t *testing.T) {
	fx := newFixture(t)
	fx.whitelist("400::2")
	for i := range 200 {
		fx.do(req{peer: fmt.Sprintf("[400::1:0:0:%x]:9", i+1), path: "/"})
	}
	fx.do(req{peer: "10.0.0.5:1", path: "/"})
	n := map[string]int{}
	for _, e := range fx.audit() {
		if e.Method == MRefused {
			n[e.Source]++
		}
	}
	if len(n) != 2 || n["10.0.0.5"] != 1 {
		t.Fatalf("refusal records by source %v: want one for the /64 and one for 10.0.0.5", n)
	}
}

func TestRefusalLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRefusalLimiter()
	l.now = func() time.Time { return now }
	a, b := refusalSource(netip.MustParseAddr("400::1")), refusalSource(netip.MustParseAddr("400::2"))
	if a != b || a != "400::/64" || refusalSource(netip.MustParseAddr("10.1.2.3")) != "10.1.2.3" {
		t.Fatalf("sources %s %s", a, b)
	}
	if !l.Admit(a, core.AuditEvent{}) {
		t.Fatal("first refusal not recorded")
	}
	for range 5 {
		if l.Admit(b, core.AuditEvent{}) {
			t.Fatal("a refusal of the same /64 within the minute recorded")
		}
	}
	now = now.Add(time.Minute)
	if !l.Admit(a, core.AuditEvent{}) {
		t.Fatal("not recorded after the window")
	}
	for i := range refusalGlobal + 10 {
		l.Admit(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String(), core.AuditEvent{})
	}
	if l.inWin != refusalGlobal {
		t.Fatalf("records in the window %d, want the global cap %d", l.inWin, refusalGlobal)
	}
}

// TestUnprivilegedUnixCaller: a socket-group member who is not privileged
// sees the public tabs, gets 403 on the privileged ones and on every
// change — the rpc.sock rule — and each refused change is audited.
func TestUnprivilegedUnixCaller(t *testing.T) {
	fx := newFixture(t)
	if _, err := fx.svc.UserCreate(context.Background(), core.CreateSpec{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/users", "/users/alice", "/groups", "/plugins"} {
		if w := fx.do(req{uid: 1234, path: p}); w.Code != http.StatusOK {
			t.Errorf("GET %s as uid 1234: %d", p, w.Code)
		}
	}
	for _, p := range []string{"/sessions", "/admin", "/audit"} {
		w := fx.do(req{uid: 1234, path: p})
		if w.Code != http.StatusForbidden {
			t.Errorf("GET %s as uid 1234: %d, want 403", p, w.Code)
		}
		wantIn(t, w.Body.String(), "needs root or uid 1000; you are uid 1234")
	}
	w := fx.do(req{uid: 1234, path: "/users/alice/lock", form: url.Values{}})
	if w.Code != http.StatusForbidden {
		t.Fatalf("lock as uid 1234: %d", w.Code)
	}
	if u, _ := fx.svc.UserGet(context.Background(), "alice"); u.State != core.UserActive {
		t.Fatal("an unprivileged caller locked alice")
	}
	ev := fx.audit()
	if ev[0].Method != "user.lock" || ev[0].Outcome != core.OutcomeError || ev[0].ActorUID != 1234 || ev[0].Source != "admin.sock" {
		t.Errorf("refused change's audit record: %+v", ev[0])
	}
	if w := fx.do(req{uid: 1000, path: "/users/alice/lock", form: url.Values{}}); w.Code != http.StatusSeeOther {
		t.Errorf("lock as the admin uid 1000: %d", w.Code)
	}
}

// TestCrossOriginPOSTRefused: a POST a browser made from another site is
// refused and changes nothing; one from the dashboard's own page, or from
// curl (no browser headers), passes.
func TestCrossOriginPOSTRefused(t *testing.T) {
	fx := newFixture(t)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "http://evil.example"},
	} {
		w := fx.do(req{path: "/admin/whitelist/add", form: url.Values{"address": {"400::66"}}, header: h})
		if w.Code != http.StatusForbidden {
			t.Errorf("POST with %v: %d, want 403", h, w.Code)
		}
	}
	if l, _ := fx.svc.WhitelistGet(context.Background()); len(l) != 0 {
		t.Fatalf("a cross-origin POST changed the whitelist: %v", l)
	}
	if w := fx.do(req{path: "/admin/whitelist/add", form: url.Values{"address": {"400::66"}}, header: map[string]string{"Sec-Fetch-Site": "same-origin"}}); w.Code != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d", w.Code)
	}
	// GET never changes anything: the changing URLs do not answer it
	// (/users and /groups are also the lists)
	for _, p := range everyPOST {
		if p == "/users" || p == "/groups" {
			continue
		}
		if w := fx.do(req{path: p}); w.Code != http.StatusMethodNotAllowed && w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 405 or 404", p, w.Code)
		}
	}
}

// TestHostHeader: a DNS name in Host (DNS rebinding) is refused; an IP
// literal or localhost is served.
func TestHostHeader(t *testing.T) {
	fx := newFixture(t)
	fx.whitelist("400::2")
	for host, code := range map[string]int{"evil.example": 421, "evil.example:5000": 421, "localhost:8080": 200, "[400::1]:5000": 200, "127.0.0.1": 200} {
		if w := fx.do(req{peer: "[400::2]:9", path: "/", host: host}); w.Code != code {
			t.Errorf("Host %s: %d, want %d", host, w.Code, code)
		}
	}
}

// TestSecurityHeaders: every answer, refusals included, carries the CSP
// and the usual headers; pages are not cached, assets are.
func TestSecurityHeaders(t *testing.T) {
	fx := newFixture(t)
	for _, r := range []req{{path: "/"}, {path: "/nope"}, {peer: "[400::9]:1", path: "/"}, {path: "/assets/app.js"}} {
		w := fx.do(r)
		h := w.Header()
		for k, v := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'self'", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		} {
			if !strings.Contains(h.Get(k), v) {
				t.Errorf("%s %s: %s = %q, want %q", r.peer, r.path, k, h.Get(k), v)
			}
		}
		if strings.HasPrefix(r.path, "/assets/") != strings.Contains(h.Get("Cache-Control"), "max-age") {
			t.Errorf("%s: Cache-Control %q", r.path, h.Get("Cache-Control"))
		}
	}
	if w := fx.do(req{path: "/assets/app.js"}); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if w := fx.do(req{path: "/assets/..%2fdashboard.go"}); w.Code != http.StatusNotFound {
		t.Errorf("asset traversal: %d", w.Code)
	}
}

// TestEventsStream: a stream names the topic that changed (never data),
// and the streams are capped apart from the request cap.
func TestEventsStream(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.MaxStreams = 1 })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(core.WithCaller(r.Context(), core.Caller{UID: 0}))
		fx.d.Handler(Unix).ServeHTTP(w, r)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events?topics=plugins")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	second, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream past the cap: %d, want 503", second.StatusCode)
	}
	if w := fx.do(req{path: "/users"}); w.Code != 200 {
		t.Errorf("a page while the stream cap is full: %d", w.Code)
	}
	waitFor(t, "the poller's baseline", func() bool {
		fx.d.hub.mu.Lock()
		defer fx.d.hub.mu.Unlock()
		_, ok := fx.d.hub.last["plugins"]
		return ok
	})
	fx.setPlugin(0, core.PluginCrashed)
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				got <- data
				return
			}
		}
	}()
	select {
	case topic := <-got:
		if topic != "plugins" {
			t.Errorf("topic %q, want plugins", topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change event within 5s")
	}
}

// TestRefusedPeerConnectionCloses: a refused TCP peer that announces a
// body and sends it slowly gets its 403 and its connection closed at
// once; it cannot hold a connection slot for the read timeout.
func TestRefusedPeerConnectionCloses(t *testing.T) {
	fx := newFixture(t)
	srv := httptest.NewUnstartedServer(fx.d.Handler(TCP))
	srv.Config.ReadTimeout = 30 * time.Second
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nn")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("%v %v", resp, err)
	}
	began := time.Now()
	_, err = io.Copy(io.Discard, resp.Body)
	var buf [1]byte
	if _, rerr := conn.Read(buf[:]); err != nil || rerr == nil || time.Since(began) > 3*time.Second {
		t.Errorf("the refused connection stayed open: body %v, then %v after %s", err, rerr, time.Since(began))
	}
}

// TestUnixRefusalsAreFolded: a caller who is not an admin repeating a
// refused change over admin.sock leaves one audit record, as over
// rpc.sock, not one per try; an admin's changes are each recorded.
func TestUnixRefusalsAreFolded(t *testing.T) {
	fx := newFixture(t)
	if _, err := fx.svc.UserCreate(context.Background(), core.CreateSpec{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if w := fx.do(req{uid: 1234, path: "/users/alice/lock", form: url.Values{}}); w.Code != http.StatusForbidden {
			t.Fatalf("a non-admin's lock: %d", w.Code)
		}
	}
	fx.do(req{uid: 1000, path: "/users/alice/lock", form: url.Values{}})
	fx.do(req{uid: 1000, path: "/users/alice/unlock", form: url.Values{}})
	byUID := map[int]int{}
	for _, e := range fx.audit() {
		byUID[e.ActorUID]++
	}
	if byUID[1234] != 1 || byUID[1000] < 2 {
		t.Errorf("audit records by uid: %v, want one for 1234 and each of 1000's", byUID)
	}
}

// TestBackLinkStaysHere: a refusal page's Back link never leads to another
// host, whatever path the request named.
func TestBackLinkStaysHere(t *testing.T) {
	fx := newFixture(t)
	for _, p := range []string{"//evil.example/x", "//evil.example/users/x", "/\\evil.example/x"} {
		w := fx.do(req{path: p, form: url.Values{}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		if body := w.Body.String(); strings.Contains(body, `href="//`) || strings.Contains(body, "evil.example\"") {
			t.Errorf("POST %s: %d links away:\n%s", p, w.Code, body)
		}
	}
}

// TestUnixBudgetPerCaller: a socket-group member who is not an admin has
// at most unixInFlight requests in flight on admin.sock (live-update
// streams included); the next is refused at once, an admin still gets in,
// and the member's room comes back as the streams end.
func TestUnixBudgetPerCaller(t *testing.T) {
	fx := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range unixInFlight {
		wg.Go(func() {
			hr := httptest.NewRequest(http.MethodGet, "/events", nil).WithContext(core.WithCaller(ctx, core.Caller{UID: 1234, GID: 1234, PID: 1}))
			hr.Host = "localhost"
			fx.d.Handler(Unix).ServeHTTP(httptest.NewRecorder(), hr)
		})
	}
	// Wait on the streams themselves, not by asking as 1234: such a
	// request, while in flight, takes the room of a stream starting then,
	// which is refused and never comes back.
	waitFor(t, "the streams in flight", func() bool {
		fx.d.hub.mu.Lock()
		defer fx.d.hub.mu.Unlock()
		return len(fx.d.hub.subs) == unixInFlight
	})
	if w := fx.do(req{uid: 1234, path: "/users"}); w.Code != http.StatusTooManyRequests {
		t.Errorf("a ninth request of the member: %d", w.Code)
	}
	if w := fx.do(req{uid: 1000, path: "/users"}); w.Code != http.StatusOK {
		t.Errorf("an admin beside them: %d", w.Code)
	}
	cancel()
	wg.Wait()
	if w := fx.do(req{uid: 1234, path: "/users"}); w.Code != http.StatusOK {
		t.Errorf("once the streams ended: %d", w.Code)
	}
}
