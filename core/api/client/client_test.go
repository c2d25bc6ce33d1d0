package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// handler answers one method in the fake host: a result or a wire error.
type handler func(params json.RawMessage) (any, *api.Error)

// fakeHost is a JSON-RPC server on a Unix socket, just enough to see what
// the client sends and to answer what a test wants.
type fakeHost struct {
	socket   string
	handlers map[string]handler
	conns    atomic.Int64

	mu     sync.Mutex
	calls  []string
	params []json.RawMessage
}

// shortDir is a temporary directory with a short path: sun_path holds 108
// bytes and t.TempDir() embeds the test name.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newFakeHost(t *testing.T, handlers map[string]handler) *fakeHost {
	t.Helper()
	f := &fakeHost{socket: filepath.Join(shortDir(t), "rpc.sock"), handlers: handlers}
	ln, err := net.Listen("unix", f.socket)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rpc", f.serveRPC)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(api.HealthResult{Status: "ok", Version: "test", UptimeSecs: 1.5})
	})
	srv := &http.Server{Handler: mux, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fakeHost) serveRPC(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, req.Method)
	f.params = append(f.params, req.Params)
	f.mu.Unlock()
	resp := map[string]any{"jsonrpc": "2.0", "id": req.ID}
	h, ok := f.handlers[req.Method]
	if !ok {
		h = func(json.RawMessage) (any, *api.Error) { return api.OK{OK: true}, nil }
	}
	if res, werr := h(req.Params); werr != nil {
		resp["error"] = werr
	} else {
		resp["result"] = res
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeHost) lastParams() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.params[len(f.params)-1])
}

func TestCallDecodesResult(t *testing.T) {
	f := newFakeHost(t, map[string]handler{
		api.MNodeGet: func(p json.RawMessage) (any, *api.Error) {
			var np api.NameParams
			json.Unmarshal(p, &np)
			return core.Node{Name: np.Name, Address: "400::1"}, nil
		},
	})
	n, err := New(f.socket).NodeGet(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "n1" || n.Address != "400::1" {
		t.Fatalf("got %+v", n)
	}
	if got := f.lastParams(); got != `{"name":"n1"}` {
		t.Fatalf("params sent: %s", got)
	}
}

func TestCallReturnsWireError(t *testing.T) {
	f := newFakeHost(t, map[string]handler{
		api.MNodeAdd: func(json.RawMessage) (any, *api.Error) {
			return nil, &api.Error{Code: api.CodeInvalidParams, Message: "name: bad",
				Data: &api.ErrorData{Kind: "invalid", Field: "name"}}
		},
	})
	_, err := New(f.socket).NodeAdd(context.Background(), api.NodeAddParams{Name: "X"})
	var we *api.Error
	if !errors.As(err, &we) {
		t.Fatalf("want *api.Error, got %T %v", err, err)
	}
	if we.Code != api.CodeInvalidParams || we.Data == nil || we.Data.Field != "name" {
		t.Fatalf("got %+v", we)
	}
	if IsUnreachable(err) {
		t.Fatal("a call error is not unreachable")
	}
}

func TestCallWithoutParamsOmitsThem(t *testing.T) {
	f := newFakeHost(t, nil)
	var raw json.RawMessage
	if err := New(f.socket).Call(context.Background(), "anything", nil, &raw); err != nil {
		t.Fatal(err)
	}
	if got := f.lastParams(); got != "" {
		t.Fatalf("params sent: %q", got)
	}
	if string(raw) != `{"ok":true}` {
		t.Fatalf("raw result %s", raw)
	}
}

func TestUnreachable(t *testing.T) {
	dir := shortDir(t)
	refused := filepath.Join(dir, "refused.sock")
	ln, err := net.Listen("unix", refused)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the socket file stays, nobody accepts: ECONNREFUSED
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o600)

	for name, sock := range map[string]string{
		"missing":   filepath.Join(dir, "missing.sock"),
		"refused":   refused,
		"not a dir": filepath.Join(notDir, "rpc.sock"),
	} {
		t.Run(name, func(t *testing.T) {
			c := New(sock)
			_, err := c.Health(context.Background())
			if !IsUnreachable(err) {
				t.Fatalf("Health: want unreachable, got %v", err)
			}
			if _, err := c.GetHealth(context.Background()); !IsUnreachable(err) {
				t.Fatalf("GetHealth: want unreachable, got %v", err)
			}
		})
	}
	if IsUnreachable(errors.New("connect: no such socket")) || IsUnreachable(nil) {
		t.Fatal("only dial errors are unreachable")
	}
}

func TestGetHealth(t *testing.T) {
	f := newFakeHost(t, nil)
	h, err := New(f.socket).GetHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.UptimeSecs != 1.5 {
		t.Fatalf("got %+v", h)
	}
}

// TestKeepAlive guards the transport settings: sequential calls must reuse
// one connection, or every CLI burst and the benchmark pay a connect each.
func TestKeepAlive(t *testing.T) {
	f := newFakeHost(t, nil)
	c := New(f.socket)
	for range 50 {
		if _, err := c.Stats(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.conns.Load(); n != 1 {
		t.Fatalf("50 calls used %d connections, want 1", n)
	}
}

func TestResponseNotJSONRPC(t *testing.T) {
	sock := filepath.Join(shortDir(t), "rpc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "teapot", http.StatusTeapot)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c := New(sock)
	if err := c.Call(context.Background(), "health", nil, nil); err == nil || IsUnreachable(err) {
		t.Fatalf("want a plain error, got %v", err)
	}
	if _, err := c.GetHealth(context.Background()); err == nil {
		t.Fatal("GetHealth on HTTP 418: want error")
	}
}

// TestEveryMethodHasAHelper keeps the typed helpers in step with the
// method table: a method added to api.Methods fails here until it has one.
func TestEveryMethodHasAHelper(t *testing.T) {
	f := newFakeHost(t, map[string]handler{
		api.MDiscover: func(json.RawMessage) (any, *api.Error) { return map[string]any{"openrpc": "1.3.2"}, nil },
	})
	c := New(f.socket)
	ctx := context.Background()
	helpers := []func() error{
		func() error { _, err := c.Health(ctx); return err },
		func() error { _, err := c.Stats(ctx); return err },
		func() error { _, err := c.Discover(ctx); return err },
		func() error { _, err := c.NodeAdd(ctx, api.NodeAddParams{Name: "a", Address: "::1"}); return err },
		func() error { return c.NodeRemove(ctx, "a") },
		func() error { _, err := c.NodeList(ctx); return err },
		func() error { _, err := c.NodeGet(ctx, "a"); return err },
		func() error { _, err := c.GroupCreate(ctx, api.GroupCreateParams{Name: "g"}); return err },
		func() error { return c.GroupDelete(ctx, api.GroupDeleteParams{Name: "g"}) },
		func() error { _, err := c.GroupList(ctx); return err },
		func() error { _, err := c.GroupGet(ctx, "g"); return err },
		func() error { _, err := c.WhitelistGet(ctx); return err },
		func() error { _, err := c.WhitelistSet(ctx, nil); return err },
		func() error { _, err := c.AuditList(ctx, api.AuditListParams{Limit: 5}); return err },
		func() error { _, err := c.UserCreate(ctx, api.UserCreateParams{Name: "alice"}); return err },
		func() error { _, err := c.UserCreateBatch(ctx, nil); return err },
		func() error { return c.UserDelete(ctx, "alice", false) },
		func() error { _, err := c.UserGet(ctx, "alice"); return err },
		func() error { _, err := c.UserList(ctx, api.UserListParams{}); return err },
		func() error { _, err := c.UserReset(ctx, "alice"); return err },
		func() error { _, err := c.UserLock(ctx, "alice"); return err },
		func() error { _, err := c.UserUnlock(ctx, "alice"); return err },
		func() error { _, err := c.UserKeyAdd(ctx, "alice", nil); return err },
		func() error { _, err := c.UserKeyRemove(ctx, "alice", "SHA256:x"); return err },
		func() error { _, err := c.UserQuotaSet(ctx, "alice", "20G"); return err },
		func() error { _, err := c.UserLimitsSet(ctx, "alice", "2", "4G"); return err },
		func() error {
			_, err := c.UserPlan(ctx, api.PlanParams{Method: api.MUserDelete, Name: "alice"})
			return err
		},
		func() error { _, err := c.SessionList(ctx, ""); return err },
		func() error { _, err := c.SessionKill(ctx, "alice", ""); return err },
		func() error { _, err := c.GroupMemberAdd(ctx, "devs", "alice"); return err },
		func() error { _, err := c.GroupMemberRemove(ctx, "devs", "alice"); return err },
		func() error { _, err := c.Reconcile(ctx); return err },
		func() error { return c.PluginApprove(ctx, "accounts") },
		func() error { _, err := c.PluginList(ctx); return err },
		func() error { _, err := c.FleetInit(ctx, api.FleetInitParams{Secret: "s"}); return err },
		func() error { _, err := c.FleetJoin(ctx, api.FleetJoinParams{Secret: "s"}); return err },
		func() error { _, err := c.NodeLabel(ctx, "n1", []string{"zone=eu"}); return err },
		func() error { _, err := c.FleetUserCreate(ctx, api.FleetUserCreateParams{Name: "alice"}); return err },
		func() error { _, err := c.FleetUserDelete(ctx, api.FleetUserDeleteParams{Name: "alice"}); return err },
		func() error { _, err := c.FleetUserList(ctx); return err },
		func() error { _, err := c.FleetUserKeyAdd(ctx, api.FleetUserKeyAddParams{Name: "alice"}); return err },
		func() error {
			_, err := c.FleetUserKeyRemove(ctx, api.FleetUserKeyRemoveParams{Name: "alice"})
			return err
		},
		func() error { _, err := c.FleetUserQuotaSet(ctx, api.FleetUserQuotaParams{Name: "alice"}); return err },
		func() error {
			_, err := c.FleetUserLimitsSet(ctx, api.FleetUserLimitsParams{Name: "alice"})
			return err
		},
		func() error { _, err := c.FleetUserLock(ctx, api.FleetUserParams{Name: "alice"}, false); return err },
		func() error { _, err := c.FleetUserLock(ctx, api.FleetUserParams{Name: "alice"}, true); return err },
		func() error { _, err := c.FleetUserPlace(ctx, api.FleetUserPlaceParams{Name: "alice"}); return err },
		func() error { _, err := c.FleetGroupCreate(ctx, api.FleetGroupCreateParams{Name: "g"}); return err },
		func() error { _, err := c.FleetGroupDelete(ctx, api.FleetGroupDeleteParams{Name: "g"}); return err },
		func() error {
			_, err := c.FleetGroupMember(ctx, api.FleetGroupMemberParams{Name: "g"}, false)
			return err
		},
		func() error {
			_, err := c.FleetGroupMember(ctx, api.FleetGroupMemberParams{Name: "g"}, true)
			return err
		},
		func() error { _, err := c.FleetSessionList(ctx, api.FleetSessionListParams{}); return err },
		func() error { _, err := c.FleetSessionKill(ctx, api.FleetSessionKillParams{User: "alice"}); return err },
		func() error { _, err := c.FleetStatus(ctx); return err },
	}
	for _, h := range helpers {
		if err := h(); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, m := range api.Methods {
		want = append(want, m.Name)
	}
	got := append([]string(nil), f.calls...)
	sort.Strings(want)
	sort.Strings(got)
	if len(got) != len(want) {
		t.Fatalf("helpers call %v\nmethod table has %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("helpers call %v\nmethod table has %v", got, want)
		}
	}
	if p := f.lastParams(); p != `{}` {
		t.Fatalf("a method without params should send {}, sent %s", p)
	}
}

// TestUserHelpersSendTheContract: the helpers that take names build the
// params the host decodes, with empty lists as [] and optional fields left
// out, exactly as api/users.go spells them.
func TestUserHelpersSendTheContract(t *testing.T) {
	f := newFakeHost(t, nil)
	c := New(f.socket)
	ctx := context.Background()
	uid := 2001
	for _, tc := range []struct {
		call func() error
		want string
	}{
		{func() error {
			_, err := c.UserCreate(ctx, api.UserCreateParams{Name: "alice", UID: &uid, Quota: "20G"})
			return err
		}, `{"name":"alice","uid":2001,"quota":"20G"}`},
		{func() error { _, err := c.UserCreateBatch(ctx, nil); return err }, `{"users":[]}`},
		{func() error { return c.UserDelete(ctx, "alice", true) }, `{"name":"alice","keep_home":true}`},
		{func() error { _, err := c.UserKeyAdd(ctx, "alice", nil); return err }, `{"name":"alice","keys":[]}`},
		{func() error { _, err := c.UserKeyRemove(ctx, "alice", "SHA256:x"); return err }, `{"name":"alice","key":"SHA256:x"}`},
		{func() error { _, err := c.UserQuotaSet(ctx, "alice", "0"); return err }, `{"name":"alice","quota":"0"}`},
		{func() error { _, err := c.SessionList(ctx, ""); return err }, `{}`},
		{func() error { _, err := c.SessionKill(ctx, "alice", "s1"); return err }, `{"user":"alice","session":"s1"}`},
		{func() error { _, err := c.GroupMemberRemove(ctx, "devs", "bob"); return err }, `{"name":"devs","user":"bob"}`},
	} {
		if err := tc.call(); err != nil {
			t.Fatal(err)
		}
		if got := f.lastParams(); got != tc.want {
			t.Errorf("sent %s, want %s", got, tc.want)
		}
	}
}
