//go:build integration

package integration

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fleetTab checks n's dashboard Fleet tab at the end of TestFleet: every
// node of the fleet with its role and state, and the last fleet call with
// one row per node; then, where Chromium and axe-core are installed, the
// same page in Chromium passes axe-core and is saved as a screenshot. The
// page is read over the node's admin.sock (as root, privileged), which
// the test serves to Chromium through a proxy on 127.0.0.1: the node's
// TCP listener is inside its network namespace.
func fleetTab(t *testing.T, n *fleetNode, nodes []string, labels, lastCall string) {
	t.Helper()
	sock := filepath.Join(filepath.Dir(n.sock), "admin.sock")
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: dial}, Timeout: 10 * time.Second}
	var body string
	converged := eventually(20*time.Second, func() bool {
		resp, err := hc.Get("http://localhost/fleet")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == http.StatusOK && strings.Count(body, `class="badge ok">converged`) == len(nodes)
	})
	if !converged {
		t.Fatalf("%s's Fleet tab does not show the %d nodes converged within 20s:\n%s", n.name, len(nodes), body)
	}
	for _, want := range append(nodes, labels, "replica", "leaf", lastCall, `rowspan="4"`, `class="badge ok">removed`) {
		if !strings.Contains(body, want) {
			t.Errorf("%s's Fleet tab lacks %q:\n%s", n.name, want, body)
		}
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Log("the Fleet tab's axe check skipped: chromium is not installed")
		return
	}
	axe := axeSource(t)
	url := "http://" + proxyTo(t, dial)
	ctx := browser(t, chromium)
	do(t, ctx, "open the Fleet tab", chromedp.Navigate(url+"/fleet"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	axeCheck(t, ctx, axe, "/fleet")
	screenshot(t, ctx, artifactDir(t), "fleet")
}

// proxyTo listens on 127.0.0.1 and pipes every connection to dial's; it
// returns the listener's address and stops with the test.
func proxyTo(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := dial(context.Background(), "", "")
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c) }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	return l.Addr().String()
}
