package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

func TestHealth(t *testing.T) {
	var mu sync.Mutex
	plugins := []core.PluginInfo{{Concern: "accounts", Name: "shadow", State: core.PluginReady}}
	info := Info{Version: "9.9.9", Started: time.Now().Add(-time.Minute), Plugins: func() []core.PluginInfo {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(plugins)
	}}
	s, _ := newAPIServer(t, denyAll, info, nil)
	c, _ := serveUnix(t, s)

	status, body := get(t, c, "/health")
	var h api.HealthResult
	if err := json.Unmarshal(body, &h); err != nil || status != http.StatusOK {
		t.Fatalf("GET /health: %d %s", status, body)
	}
	if h.Status != StatusOK || h.Version != "9.9.9" || h.UptimeSecs < 60 || len(h.Plugins) != 1 {
		t.Fatalf("health: %+v", h)
	}
	r := call(t, c, api.MHealth, nil)
	if r.Error != nil || !bytes.Contains(r.Result, []byte(`"status":"ok"`)) {
		t.Fatalf("health method: %+v %s", r.Error, r.Result)
	}

	mu.Lock()
	plugins = append(plugins, core.PluginInfo{Concern: "volumes", Name: "btrfs", State: core.PluginCrashed})
	mu.Unlock()
	status, body = get(t, c, "/health")
	if status != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(`"status":"degraded"`)) {
		t.Fatalf("degraded: %d %s", status, body)
	}
}

func TestOpenRPCServed(t *testing.T) {
	s, _ := newAPIServer(t, denyAll, Info{Version: "1.0.0"}, nil)
	c, _ := serveUnix(t, s)
	status, doc := get(t, c, "/openrpc.json")
	if status != http.StatusOK {
		t.Fatalf("GET /openrpc.json: %d", status)
	}
	r := call(t, c, api.MDiscover, nil)
	if r.Error != nil || !bytes.Equal(r.Result, doc) {
		t.Fatalf("rpc.discover differs from /openrpc.json:\n%s\n%s", r.Result, doc)
	}
	var d api.Document
	if err := json.Unmarshal(doc, &d); err != nil || d.OpenRPC != api.OpenRPCVersion || len(d.Methods) != len(api.Methods) || d.Info.Version != "1.0.0" {
		t.Fatalf("document: %v %+v", err, d.Info)
	}
}

// TestEveryMethodAnswers calls each method of the table once as a
// privileged caller: no method is left without a working handler.
func TestEveryMethodAnswers(t *testing.T) {
	s, _ := newAPIServer(t, allowAll, Info{Version: "t"}, nil)
	c, _ := serveUnix(t, s)
	params := map[string]any{
		api.MNodeAdd:      map[string]any{"name": "n1", "address": "10.0.0.1"},
		api.MNodeGet:      map[string]any{"name": "n1"},
		api.MNodeRemove:   []string{"n1"},
		api.MGroupCreate:  map[string]any{"name": "devs", "members": []string{"alice"}},
		api.MGroupGet:     map[string]any{"name": "devs"},
		api.MGroupDelete:  map[string]any{"name": "devs"},
		api.MWhitelistSet: map[string]any{"addresses": []string{"400::1"}},
	}
	order := []string{api.MNodeAdd, api.MNodeGet, api.MGroupCreate, api.MGroupGet}
	for _, m := range api.Methods {
		if _, later := params[m.Name]; !later {
			order = append(order, m.Name)
		}
	}
	order = append(order, api.MNodeRemove, api.MGroupDelete, api.MWhitelistSet)
	mutating := 0
	for _, name := range order {
		r := call(t, c, name, params[name])
		if m, _ := api.Lookup(name); m.Mutating {
			mutating++
		}
		// The account methods need plugins (and names) this test does not
		// give: a typed answer from the handler is what is checked here.
		if r.Error != nil && (r.Error.Code == api.CodeMethodNotFound || r.Error.Code == api.CodeInternalError) {
			t.Errorf("%s: %+v", name, r.Error)
		}
		if r.Error != nil && params[name] != nil {
			t.Errorf("%s: %+v", name, r.Error)
		}
	}
	r := call(t, c, api.MStats, nil)
	var st api.StatsResult
	if err := json.Unmarshal(r.Result, &st); err != nil || st.AuditEvents != mutating {
		t.Errorf("stats after %d mutating calls: %+v %s", mutating, r.Error, r.Result)
	}
}

func TestPrivilege(t *testing.T) {
	s, svc := newAPIServer(t, denyAll, Info{}, nil)
	c, _ := serveUnix(t, s)
	uid := strconv.Itoa(os.Getuid())
	r := call(t, c, api.MNodeAdd, map[string]any{"name": "n1", "address": "10.0.0.1"})
	if r.Error == nil || r.Error.Code != api.CodeForbidden {
		t.Fatalf("unprivileged node.add: %+v", r)
	}
	want := "node.add needs root or membership of group hcadmin; you are uid " + uid
	if r.Error.Message != want {
		t.Fatalf("message %q, want %q", r.Error.Message, want)
	}
	// Privileged reads are refused too; public methods are not.
	if r := call(t, c, api.MAuditList, nil); r.Error == nil || r.Error.Code != api.CodeForbidden {
		t.Fatalf("unprivileged audit.list: %+v", r)
	}
	if r := call(t, c, api.MNodeList, nil); r.Error != nil {
		t.Fatalf("public node.list: %+v", r.Error)
	}
	// The refused attempt is in the audit log, with its target.
	events, _, _ := svc.AuditList(context.Background(), core.AuditFilter{})
	if len(events) != 1 || events[0].Outcome != core.OutcomeError || events[0].Target != "n1" || !strings.Contains(events[0].Error, "needs root") {
		t.Fatalf("audit of the refusal: %+v", events)
	}
	// A URL given as fleet-join's address: its password is not recorded.
	call(t, c, api.MFleetJoin, map[string]any{"address": "nats://hc:pw-s3cret@10.0.0.1:4222", "secret": "a long fleet passphrase"})
	events, _, _ = svc.AuditList(context.Background(), core.AuditFilter{})
	if len(events) != 2 || events[0].Method != api.MFleetJoin || events[0].Target != "nats://hc:xxxxx@10.0.0.1:4222" {
		t.Fatalf("audit of fleet.join with a URL: %+v", events)
	}
	// Without SO_PEERCRED (not a Unix socket) nobody is privileged.
	s2, _ := newAPIServer(t, allowAll, Info{}, nil)
	out := s2.handle(s2.withCaller(context.Background()), []byte(`{"jsonrpc":"2.0","method":"node.remove","params":["x"],"id":1}`), nil)
	if r := decodeOne(t, out); r.Error == nil || r.Error.Code != api.CodeForbidden || !strings.Contains(r.Error.Message, "unknown") {
		t.Fatalf("no peer credentials: %s", out)
	}
}

// TestAudit checks what a mutating call leaves in the audit log: actor,
// method, target, outcome, duration, and nothing of the params.
func TestAudit(t *testing.T) {
	s, _ := newAPIServer(t, allowAll, Info{}, nil)
	c, _ := serveUnix(t, s)
	const secret = "s3cr3t-T0KEN"
	call(t, c, api.MGroupCreate, map[string]any{"name": "devs", "description": secret})
	call(t, c, api.MGroupCreate, map[string]any{"name": "devs", "description": secret})
	call(t, c, api.MNodeAdd, map[string]any{"name": "n1", "address": "no such host!"})
	call(t, c, api.MGroupList, nil) // not mutating: not recorded
	r := call(t, c, api.MAuditList, map[string]any{"limit": 10})
	var page api.AuditListResult
	if err := json.Unmarshal(r.Result, &page); err != nil || len(page.Events) != 3 {
		t.Fatalf("audit.list: %+v %s", r.Error, r.Result)
	}
	if bytes.Contains(r.Result, []byte(secret)) {
		t.Fatalf("a param value reached the audit log: %s", r.Result)
	}
	want := []struct {
		method  string
		outcome core.Outcome
		field   string
	}{
		{api.MNodeAdd, core.OutcomeError, "address"},
		{api.MGroupCreate, core.OutcomeError, "already exists"},
		{api.MGroupCreate, core.OutcomeOK, ""},
	}
	for i, w := range want {
		ev := page.Events[i]
		errOK := ev.Error == "" && w.field == "" || w.field != "" && strings.Contains(ev.Error, w.field)
		if ev.Method != w.method || ev.Outcome != w.outcome || ev.ActorUID != os.Getuid() || ev.DurationMS < 0 || !errOK || ev.Target == "" {
			t.Errorf("event %d: %+v, want %+v", i, ev, w)
		}
	}
}

// failingAuditor stands for a state that cannot write.
type failingAuditor struct{}

func (failingAuditor) AuditRecord(context.Context, core.AuditEvent) (core.AuditEvent, error) {
	return core.AuditEvent{}, errBoom
}

func TestAuditFailureIsLoggedNotReturned(t *testing.T) {
	logs := &logBuffer{}
	s, _ := newAPIServer(t, allowAll, Info{}, failingAuditor{})
	s.log = slog.New(slog.NewTextHandler(logs, nil))
	c, _ := serveUnix(t, s)
	if r := call(t, c, api.MNodeAdd, map[string]any{"name": "n1", "address": "10.0.0.1"}); r.Error != nil {
		t.Fatalf("call failed with the audit: %+v", r.Error)
	}
	if !strings.Contains(logs.String(), "cannot record an audit event") {
		t.Fatalf("not logged: %s", logs)
	}
}

// TestPeerCredentials checks ConnContext reads this process's uid, gid
// and pid from the socket.
func TestPeerCredentials(t *testing.T) {
	got := make(chan core.Caller, 1)
	c, _ := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, _ := core.CallerFrom(r.Context())
		got <- caller
	}))
	get(t, c, "/")
	caller := <-got
	if caller.UID != os.Getuid() || caller.GID != os.Getgid() || caller.PID != os.Getpid() {
		t.Fatalf("caller %+v, want uid %d gid %d pid %d", caller, os.Getuid(), os.Getgid(), os.Getpid())
	}
}

// wrappedConn stands for a connection limit's wrapper around the socket.
type wrappedConn struct{ net.Conn }

func (w wrappedConn) NetConn() net.Conn { return w.Conn }

// TestPeerCredentialsThroughAWrapper: a connection wrapped by a limiter
// (host/netlimit) still yields its peer's credentials; without them every
// caller would be unprivileged.
func TestPeerCredentialsThroughAWrapper(t *testing.T) {
	path := filepath.Join(shortDir(t), "rpc.sock")
	ln, err := Listen(path, 0o600, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer dialed.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ConnContext(context.Background(), wrappedConn{wrappedConn{c}})
	caller, ok := core.CallerFrom(ctx)
	if !ok || caller.UID != os.Getuid() || caller.PID != os.Getpid() {
		t.Fatalf("caller %+v (found %v), want uid %d pid %d", caller, ok, os.Getuid(), os.Getpid())
	}
}
