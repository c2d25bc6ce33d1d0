package dashboard

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// fakes are the sdk's map-backed plugins, as the core's tests use them.
type fakes struct {
	a  *accounts.Fake
	v  *volumes.Fake
	c  *acl.Fake
	k  *sshkeys.Fake
	ss *sessions.Fake
	l  *limits.Fake
}

func (f *fakes) Accounts() accounts.Accounts { return f.a }
func (f *fakes) Volumes() volumes.Volumes    { return f.v }
func (f *fakes) ACL() acl.ACL                { return f.c }
func (f *fakes) SSHKeys() sshkeys.SSHKeys    { return f.k }
func (f *fakes) Sessions() sessions.Sessions { return f.ss }
func (f *fakes) All() []core.PluginClient {
	return []core.PluginClient{{Name: "accounts", Client: f.a}, {Name: "volumes", Client: f.v},
		{Name: "acl", Client: f.c}, {Name: "sshkeys", Client: f.k}, {Name: "sessions", Client: f.ss}, {Name: "limits", Client: f.l}}
}

// policy is rpc.HostPolicy's rule in small: root and uid 1000 are
// privileged.
type policy struct{}

func (policy) Privileged(c core.Caller) bool { return c.UID == 0 || c.UID == 1000 }
func (policy) Requirement() string           { return "root or uid 1000" }

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"

// fixture is a dashboard over an in-memory state and fake plugins.
type fixture struct {
	t       testing.TB
	d       *Dashboard
	svc     *core.Service
	f       *fakes
	mu      sync.Mutex // guards plugins, which the live poller reads
	plugins []core.PluginInfo
	approve []string
	setup   SetupStatus
}

func newFixture(t testing.TB, mod ...func(*Config)) *fixture {
	t.Helper()
	fx := &fixture{t: t, f: &fakes{a: accounts.NewFake(), v: volumes.NewFake(), c: acl.NewFake(), k: sshkeys.NewFake(), ss: sessions.NewFake(), l: limits.NewFake()}}
	fx.f.v.Elsewhere = fx.f.k.Wrote
	fx.svc = core.NewService(memstore.New(), core.WithPlugins(fx.f))
	fx.plugins = []core.PluginInfo{
		{Concern: "accounts", Name: "shadow", Version: "1.0", SHA256: strings.Repeat("ab", 32), State: core.PluginReady},
		{Concern: "sessions", Name: "procfs", Version: "1.0", SHA256: strings.Repeat("cd", 32), State: core.PluginRefused, LastError: "digest changed"},
	}
	cfg := Config{
		Service: fx.svc, Policy: policy{},
		Plugins: func() []core.PluginInfo {
			fx.mu.Lock()
			defer fx.mu.Unlock()
			return slices.Clone(fx.plugins)
		},
		Approve: func(_ context.Context, c string) error { fx.approve = append(fx.approve, c); return nil },
		Setup:   func(context.Context) SetupStatus { return fx.setup },
		Info: func() api.DashboardInfo {
			return api.DashboardInfo{Listeners: []api.Listener{{Kind: "unix", Address: "/run/x/admin.sock"}, {Kind: "http", Address: "[400::1]:5000", URL: "http://[400::1]:5000/"}}}
		},
		Version: "test", Poll: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mod {
		m(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	fx.d = d
	return fx
}

func (fx *fixture) setPlugin(i int, st core.PluginState) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.plugins[i].State = st
}

// waitFor polls cond until it holds, failing the test after 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// req describes one request: over admin.sock as uid, or over TCP from peer.
type req struct {
	method, path string
	form         url.Values
	uid          int    // admin.sock caller
	peer         string // TCP peer address; set means TCP
	header       map[string]string
	host         string
}

func (fx *fixture) do(r req) *httptest.ResponseRecorder {
	fx.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	if r.method == "" {
		r.method = http.MethodGet
		if r.form != nil {
			r.method = http.MethodPost
		}
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hr.Host = "localhost"
	if r.host != "" {
		hr.Host = r.host
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	h := fx.d.Handler(Unix)
	if r.peer != "" {
		hr.RemoteAddr = r.peer
		h = fx.d.Handler(TCP)
	} else {
		hr = hr.WithContext(core.WithCaller(hr.Context(), core.Caller{UID: r.uid, GID: r.uid, PID: 1}))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	return w
}

// get asks as root over admin.sock and wants 200.
func (fx *fixture) get(path string) string {
	fx.t.Helper()
	w := fx.do(req{path: path})
	if w.Code != http.StatusOK {
		fx.t.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body)
	}
	return w.Body.String()
}

// post posts a form as root over admin.sock and wants a redirect; it
// returns the page redirected to.
func (fx *fixture) post(path string, form url.Values) string {
	fx.t.Helper()
	w := fx.do(req{path: path, form: form})
	if w.Code != http.StatusSeeOther {
		fx.t.Fatalf("POST %s: %d, want 303\n%s", path, w.Code, w.Body)
	}
	return fx.get(w.Header().Get("Location"))
}

func (fx *fixture) audit() []core.AuditEvent {
	fx.t.Helper()
	ev, _, err := fx.svc.AuditList(context.Background(), core.AuditFilter{})
	if err != nil {
		fx.t.Fatal(err)
	}
	return ev
}

func wantIn(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q:\n%s", s, body)
		}
	}
}
