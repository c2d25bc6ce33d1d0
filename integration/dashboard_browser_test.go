//go:build integration

package integration

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardBrowser is the dashboard as an admin uses it, in a real
// Chromium, against a host with the real plugins in the sandbox: create a
// user from the form with a pasted key, find her in the list, open her
// page, add a key, set her quota, lock and unlock her, end her ssh session
// (a real sshd on loopback; the Sessions tab shows it live), reset a
// broken mode, delete her — each step checked on the machine itself. Every
// tab passes axe-core with no serious or critical violation and is saved
// as a screenshot; a page of another site cannot post to it.
func TestDashboardBrowser(t *testing.T) {
	sessRequireSSH(t)
	chromium := requireChromium(t)
	axe := axeSource(t)
	sessPrivateRunLog(t)
	ensureDriver(t)
	quotasOn(t)
	h := newHost(t, buildTree(t, ""))
	port := freePort(t)
	h.args = []string{"--address", "127.0.0.1", "--port", port}
	h.start()
	before := machineState(t)
	h.cli("whitelist-add", "127.0.0.1")
	url := "http://127.0.0.1:" + port
	art := artifactDir(t)
	t.Logf("screenshots in %s", art)
	ctx := browser(t, chromium)

	priv, pub := clientKey(t)
	pubKey, _ := os.ReadFile(pub)

	// Create her from the form, the key pasted.
	do(t, ctx, "create alice",
		chromedp.Navigate(url+"/users/new"),
		chromedp.SendKeys(chromedp.ID("name"), "alice"),
		chromedp.SetValue(chromedp.ID("keys"), strings.TrimSpace(string(pubKey))),
		chromedp.SendKeys(chromedp.ID("token"), "forge-browser-token"),
		chromedp.SendKeys(chromedp.ID("quota"), "200M"),
		chromedp.Click(chromedp.CSS(`form[action="/users"] button[type=submit]`)),
	)
	waitText(t, ctx, "Created user alice")
	uid := passwdUID(t, "alice")
	wantPath(t, "/home/alice", uid, 0o755)
	if out, err := exec.Command("btrfs", "subvolume", "show", "/home/alice").CombinedOutput(); err != nil {
		t.Fatalf("/home/alice is not a subvolume: %v %s", err, out)
	}
	wantAuthorized(t, string(pubKey))
	if b, _ := os.ReadFile("/home/alice/hero/cfg/hero_cfg.toml"); !strings.Contains(string(b), "forge-browser-token") {
		t.Error("the forge token did not reach hero_cfg.toml")
	}

	// She is in the list; her page opens from there.
	do(t, ctx, "users list", chromedp.Navigate(url+"/users"), chromedp.Click(chromedp.CSS(`a[href="/users/alice"]`)))
	waitText(t, ctx, "Her public key")

	// Add a key.
	_, pub2 := clientKey(t)
	key2, _ := os.ReadFile(pub2)
	do(t, ctx, "add a key",
		chromedp.SetValue(chromedp.ID("keys"), strings.TrimSpace(string(key2))),
		chromedp.Click(chromedp.CSS(`form[action="/users/alice/keys"] button`)),
	)
	waitText(t, ctx, "Added 1 key(s) to alice")
	wantAuthorized(t, string(pubKey), string(key2))

	// Set the quota.
	do(t, ctx, "set the quota", chromedp.SendKeys(chromedp.ID("quota"), "300M"), chromedp.Click(chromedp.CSS(`form[action="/users/alice/quota"] button`)))
	waitText(t, ctx, "Quota of alice set to 300.0 MiB")
	if out, _ := exec.Command("btrfs", "qgroup", "show", "-re", "--raw", "/home/alice").CombinedOutput(); !strings.Contains(string(out), "314572800") {
		t.Errorf("qgroup limit of 300M not on the machine:\n%s", out)
	}

	// Lock and unlock.
	pw := shadowField(t, "alice")
	do(t, ctx, "lock", chromedp.Click(chromedp.CSS(`form[action="/users/alice/lock"] button`)))
	waitText(t, ctx, "Locked alice")
	if got := shadowField(t, "alice"); !strings.HasPrefix(got, "!") {
		t.Errorf("locked alice's password field %q, want a leading !", got)
	}
	do(t, ctx, "unlock", chromedp.Click(chromedp.CSS(`form[action="/users/alice/unlock"] button`)))
	waitText(t, ctx, "Unlocked alice")
	if got := shadowField(t, "alice"); got != pw {
		t.Errorf("unlocked alice's password field %q, want %q as before", got, pw)
	}

	// Her ssh session shows up live on the Sessions tab; end it there.
	sshPort, _ := startSSHD(t, sshdOptions{})
	do(t, ctx, "sessions tab", chromedp.Navigate(url+"/sessions"))
	waitText(t, ctx, "No sessions")
	sess := sessOpen(t, sshPort, "alice", priv, true, "sleep 600")
	waitText(t, ctx, "pts/") // no reload: the server-sent event refreshed the table
	screenshot(t, ctx, art, "sessions")
	axeCheck(t, ctx, axe, "/sessions")
	do(t, ctx, "end her sessions", chromedp.Click(chromedp.CSS(`button[aria-label="End all sessions of alice"]`)))
	waitText(t, ctx, "session(s) of alice")
	sess.waitExit(t, 15*time.Second)

	// Break her home's mode; reset repairs it and says so.
	if err := os.Chmod("/home/alice", 0o700); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "reset", chromedp.Navigate(url+"/users/alice"), chromedp.Click(chromedp.CSS(`form[action="/users/alice/reset"] button`)))
	waitText(t, ctx, "mode of /home/alice was 0700")
	wantPath(t, "/home/alice", uid, 0o755)

	// A group for the Groups tab, then every tab: axe and a screenshot.
	h.mustCLI("group-create", "devs", "--shared", "--quota", "1G", "-m", "alice")
	for _, tab := range []struct{ path, name string }{
		{"/", "overview"}, {"/users", "users"}, {"/users/alice", "user"}, {"/users/new", "user-new"},
		{"/groups", "groups"}, {"/groups/devs", "group"}, {"/fleet", "fleet-none"}, {"/plugins", "plugins"}, {"/admin", "admin"},
		{"/audit", "audit"},
	} {
		do(t, ctx, "open "+tab.path, chromedp.Navigate(url+tab.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		axeCheck(t, ctx, axe, tab.path)
		screenshot(t, ctx, art, tab.name)
	}
	keyboardCheck(t, ctx, url)
	phoneCheck(t, ctx, url, art)
	crossSiteCheck(t, ctx, h, url)
	h.mustCLI("group-delete", "devs")

	// Delete her, confirmed by typing her name.
	do(t, ctx, "delete",
		chromedp.Navigate(url+"/users/alice"),
		chromedp.SendKeys(chromedp.ID("confirm"), "alice"),
		chromedp.Click(chromedp.CSS(`form[action="/users/alice/delete"] button`)),
	)
	waitText(t, ctx, "Deleted user alice")
	if _, err := os.Lstat("/home/alice"); !os.IsNotExist(err) {
		t.Errorf("/home/alice survived: %v", err)
	}
	if b, _ := os.ReadFile("/etc/passwd"); strings.Contains(string(b), "\nalice:") {
		t.Error("alice is still in /etc/passwd")
	}
	sameMachine(t, before, machineState(t))
	audit := h.mustCLI("audit-list", "--actor", "127.0.0.1", "--limit", "100")
	for _, m := range []string{"user.create", "user.key.add", "user.quota.set", "user.lock", "user.unlock", "session.kill", "user.reset", "user.delete"} {
		if !strings.Contains(audit, m) {
			t.Errorf("the audit log lacks the dashboard's %s from 127.0.0.1:\n%s", m, audit)
		}
	}
	if strings.Contains(audit, "forge-browser-token") || strings.Contains(h.log.String(), "forge-browser-token") {
		t.Error("the forge token leaked into the audit log or the host log")
	}
}

// keyboardCheck: the first Tab lands on the skip link, Enter on it moves
// focus to the content, and the next Tabs walk the navigation's links.
func keyboardCheck(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, "keyboard", chromedp.Navigate(url+"/plugins"), chromedp.WaitVisible(chromedp.CSS("main h1")), chromedp.KeyEvent("\t"))
	if got := get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Skip to content" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	do(t, ctx, "tab to nav", chromedp.KeyEvent("\t"))
	if got := get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.getAttribute("href")`)); got != "/" {
		t.Errorf("the second Tab focuses %q, want the first tab's link", got)
	}
	do(t, ctx, "enter on a tab", chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r"))
	if got := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(got, "/users") {
		t.Errorf("Enter on the Users link went to %s", got)
	}
}

// phoneCheck: on a phone-sized screen no page scrolls sideways (wide
// tables scroll inside their own region).
func phoneCheck(t *testing.T, ctx context.Context, url, art string) {
	t.Helper()
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	defer do(t, ctx, "reset viewport", chromedp.EmulateReset())
	for _, p := range []string{"/", "/users", "/users/alice", "/plugins", "/audit"} {
		do(t, ctx, "open "+p, chromedp.Navigate(url+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if wide := get(t, ctx, "width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			t.Errorf("%s scrolls sideways on a phone", p)
		}
	}
	do(t, ctx, "phone users", chromedp.Navigate(url+"/users/alice"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	screenshot(t, ctx, art, "phone-user")
}

// crossSiteCheck: a page on another site (localhost, a different host than
// 127.0.0.1) posts a form to the dashboard; Chromium marks it cross-site
// and the dashboard refuses it; the whitelist is unchanged.
func crossSiteCheck(t *testing.T, ctx context.Context, h *hostUnderTest, url string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	evil := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><form id="f" method="post" action="` + url + `/admin/whitelist/add">` +
			`<input name="address" value="400::66"><button id="go" type="submit">go</button></form>`))
	})}
	go evil.Serve(l)
	defer evil.Close()
	evilURL := "http://localhost:" + strings.TrimPrefix(l.Addr().String(), "127.0.0.1:") + "/"
	do(t, ctx, "the other site's form", chromedp.Navigate(evilURL), chromedp.Click(chromedp.ID("go")))
	waitFor(t, "the refusal", 15*time.Second, func() bool {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS("body")))
		return err == nil && strings.Contains(s, "cross-origin")
	})
	if out := h.mustCLI("whitelist-get"); strings.Contains(out, "400::66") {
		t.Errorf("a cross-site POST changed the whitelist:\n%s", out)
	}
}

// passwdUID is name's uid as /etc/passwd has it.
func passwdUID(t *testing.T, name string) int {
	t.Helper()
	out, err := exec.Command("id", "-u", "--", name).Output()
	if err != nil {
		t.Fatalf("%s is not in passwd: %v", name, err)
	}
	var uid int
	for _, c := range strings.TrimSpace(string(out)) {
		uid = uid*10 + int(c-'0')
	}
	return uid
}

// shadowField is the password field of name in /etc/shadow.
func shadowField(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/etc/shadow")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Split(l, ":"); len(f) > 1 && f[0] == name {
			return f[1]
		}
	}
	t.Fatalf("%s is not in /etc/shadow", name)
	return ""
}

// wantAuthorized checks alice's authorized_keys holds exactly keys.
func wantAuthorized(t *testing.T, keys ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/home/alice/.ssh/authorized_keys"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.Contains(string(b), strings.TrimSpace(k)) {
			t.Errorf("authorized_keys lacks %s:\n%s", k, b)
		}
	}
	if n := strings.Count(strings.TrimSpace(string(b)), "\n") + 1; n != len(keys) {
		t.Errorf("authorized_keys has %d lines, want %d:\n%s", n, len(keys), b)
	}
}
