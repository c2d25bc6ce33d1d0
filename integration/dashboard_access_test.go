//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// dashTabs are the dashboard's tabs, each its own URL.
var dashTabs = []string{"/", "/users", "/sessions", "/groups", "/plugins", "/admin", "/audit"}

// servedTab reports whether an answer is the tab itself: 200, or (the
// Sessions tab of a host without plugins) the 503 page saying so — a page
// of the dashboard with its navigation, not a refusal.
func servedTab(code int, body string) bool {
	return (code == http.StatusOK || code == http.StatusServiceUnavailable) && strings.Contains(body, `aria-current="page"`)
}

// dashHost starts a state-only host (the whitelist needs no plugins)
// inside ns with more serve flags.
func dashHost(t *testing.T, ns *netns, args ...string) *hostUnderTest {
	t.Helper()
	h := newHost(t, buildTree(t, ""))
	h.wrap = ns.enter()
	h.args = append([]string{"--no-plugins"}, args...)
	h.start()
	return h
}

func (h *hostUnderTest) adminSock() string {
	return filepath.Join(filepath.Dir(h.sock), "admin.sock")
}

// TestDashboardWhitelistOverlay proves the whitelist from real addresses:
// a host in its own network namespace finds its mycelium address on a TUN
// device (400::1/7, as mycelium's) and serves the dashboard there; a
// whitelisted peer (400::2) gets every tab, another (400::3) gets 403 even
// with X-Forwarded-For naming the whitelisted one, an empty whitelist
// serves nothing over TCP, a cross-site POST is refused, and admin.sock
// always works.
func TestDashboardWhitelistOverlay(t *testing.T) {
	sandbox.Require(t)
	ns := newNetns(t)
	ns.tun("myc0", "400::1/7")
	// the browsers' side, found after myc0: 400::2 is whitelisted, 401::3
	// (another /64: refusals are recorded once a minute per /64) is not
	ns.tun("myc1", "400::2/7", "401::3/7")
	h := dashHost(t, ns)
	if !strings.Contains(h.log.String(), "address=[400::1]:5000") {
		t.Fatalf("the host did not listen on the detected mycelium address:\n%s", h.log)
	}
	if out := h.mustCLI("status"); !strings.Contains(out, "http://[400::1]:5000/") {
		t.Errorf("status does not say where the dashboard is:\n%s", out)
	}
	url := "http://[400::1]:5000"

	// empty whitelist: nothing over TCP, on any URL
	for _, p := range append(dashTabs, "/users/alice", "/assets/app.css", "/events", "/nope") {
		code, body := ns.curl("400::2", url+p)
		if code != http.StatusForbidden || !strings.Contains(body, "whitelist is empty") {
			t.Errorf("GET %s with an empty whitelist: %d", p, code)
		}
	}
	if code, _ := ns.curl("400::2", url+"/admin/whitelist/add", "-d", "address=400::2"); code != http.StatusForbidden {
		t.Fatalf("POST with an empty whitelist: %d", code)
	}

	_, errs, code := h.cli("whitelist-add", "400::2")
	if code != 0 {
		t.Fatalf("whitelist-add: %d %s", code, errs)
	}
	for _, p := range dashTabs {
		if code, body := ns.curl("400::2", url+p); !servedTab(code, body) {
			t.Errorf("GET %s from the whitelisted 400::2: %d", p, code)
		}
	}
	for _, hdr := range []string{"X-Forwarded-For: 400::2", "X-Real-IP: 400::2", "Forwarded: for=\"[400::2]\""} {
		if code, _ := ns.curl("401::3", url+"/admin", "-H", hdr); code != http.StatusForbidden {
			t.Errorf("401::3 with %q: %d, want 403", hdr, code)
		}
	}
	// a cross-site POST from the whitelisted browser is refused
	code, _ = ns.curl("400::2", url+"/admin/whitelist/add", "-H", "Sec-Fetch-Site: cross-site", "-H", "Origin: http://evil.example", "-d", "address=401::3")
	if code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", code)
	}
	// the same POST from the dashboard's own page works and is audited with its source
	code, _ = ns.curl("400::2", url+"/admin/whitelist/add", "-H", "Sec-Fetch-Site: same-origin", "-d", "address=400:1234::/64")
	if code != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d, want 303", code)
	}
	if out := h.mustCLI("whitelist-get"); strings.Contains(out, "401::3") || !strings.Contains(out, "400:1234::/64") {
		t.Errorf("whitelist after the POSTs:\n%s", out)
	}
	audit := h.mustCLI("audit-list", "--actor", "400::2")
	if !strings.Contains(audit, "admin.whitelist.set") {
		t.Errorf("the dashboard's change is not audited with its peer:\n%s", audit)
	}
	if audit := h.mustCLI("audit-list", "--method", "dashboard.refused"); !strings.Contains(audit, "401::3") {
		t.Errorf("no audit record of the refused 401::3:\n%s", audit)
	}

	// admin.sock always works, whatever the whitelist
	h.mustCLI("whitelist-clear")
	if code, _ := ns.curl("400::2", url+"/"); code != http.StatusForbidden {
		t.Errorf("after whitelist-clear: %d, want 403", code)
	}
	out, err := exec.Command("curl", "-s", "-w", "\n%{http_code}", "--unix-socket", h.adminSock(), "http://localhost/users").Output()
	if err != nil || !strings.HasSuffix(string(out), "\n200") {
		t.Errorf("admin.sock with an empty whitelist: %v %s", err, out)
	}
}

// TestDashboardWhitelistLoopback: a host on 127.0.0.1 (--address) with
// 127.0.0.1 whitelisted — accepted with a warning — serves that source and
// refuses 127.0.0.2.
func TestDashboardWhitelistLoopback(t *testing.T) {
	sandbox.Require(t)
	ns := newNetns(t)
	h := dashHost(t, ns, "--address", "127.0.0.1", "--port", "5300")
	_, errs, code := h.cli("whitelist-add", "127.0.0.1")
	if code != 0 || !strings.Contains(errs, "warning: 127.0.0.1 is a loopback entry") {
		t.Errorf("whitelist-add 127.0.0.1: exit %d, stderr %q (want a loopback warning)", code, errs)
	}
	for _, p := range dashTabs {
		if code, body := ns.curl("127.0.0.1", "http://127.0.0.1:5300"+p); !servedTab(code, body) {
			t.Errorf("GET %s from 127.0.0.1: %d", p, code)
		}
		if code, _ := ns.curl("127.0.0.2", "http://127.0.0.1:5300"+p, "-H", "X-Forwarded-For: 127.0.0.1"); code != http.StatusForbidden {
			t.Errorf("GET %s from 127.0.0.2: %d, want 403", p, code)
		}
	}
}

// TestDashboardHTTPS: on an address that is neither the overlay nor
// loopback the dashboard serves HTTPS with a self-signed certificate made
// at first start, whose fingerprint the log and status print, and keeps it
// across a restart.
func TestDashboardHTTPS(t *testing.T) {
	sandbox.Require(t)
	ns := newNetns(t)
	ns.tun("lan0", "fd42:4843::1/64")
	h := dashHost(t, ns, "--address", "fd42:4843::1", "--port", "5443")
	status := h.mustCLI("status")
	i := strings.Index(status, "certificate SHA-256 ")
	if !strings.Contains(status, "https://[fd42:4843::1]:5443/") || i < 0 {
		t.Fatalf("status:\n%s", status)
	}
	fp := status[i+len("certificate SHA-256 ") : i+len("certificate SHA-256 ")+95]
	if !strings.Contains(h.log.String(), fp) {
		t.Errorf("the log does not print the fingerprint %s", fp)
	}
	h.mustCLI("whitelist-add", "fd42:4843::/64")
	if code, _ := ns.curl("fd42:4843::1", "https://[fd42:4843::1]:5443/"); code != http.StatusOK {
		t.Errorf("HTTPS GET: %d", code)
	}
	if got := certFingerprint(t, h); got != fp {
		t.Errorf("the certificate file's fingerprint %s, status says %s", got, fp)
	}
	if code, _ := ns.curl("fd42:4843::1", "http://[fd42:4843::1]:5443/"); code == http.StatusOK {
		t.Error("plain HTTP answered on a non-overlay address")
	}
	h.stop()
	h.start()
	if again := h.mustCLI("status"); !strings.Contains(again, fp) {
		t.Errorf("the certificate changed across a restart:\n%s", again)
	}
}

// certFingerprint is the SHA-256 of the self-signed certificate the host
// keeps beside its log, as browsers show it.
func certFingerprint(t *testing.T, h *hostUnderTest) string {
	t.Helper()
	home := ""
	for _, e := range h.env {
		if v, ok := strings.CutPrefix(e, "HOME="); ok {
			home = v
		}
	}
	b, err := os.ReadFile(filepath.Join(home, "hero", "var", "hero_codescalers", "dashboard-tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("dashboard-tls.crt is not PEM")
	}
	sum := sha256.Sum256(blk.Bytes)
	parts := make([]string, len(sum))
	for i, c := range sum {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}
