package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
)

// shortDir is a temp dir with a path short enough for a socket: t.TempDir
// paths can pass the 108-byte sun_path limit.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// policyFunc is a Policy for tests: privilege decided by a function.
type policyFunc func(core.Caller) bool

func (f policyFunc) Privileged(c core.Caller) bool { return f(c) }
func (f policyFunc) Requirement() string           { return "root or membership of group hcadmin" }

var (
	allowAll = policyFunc(func(core.Caller) bool { return true })
	denyAll  = policyFunc(func(core.Caller) bool { return false })
)

// logBuffer collects log output safely across the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serveUnix serves h on a fresh Unix socket the way the host does and
// returns an HTTP client bound to it.
func serveUnix(t testing.TB, h http.Handler) (*http.Client, string) {
	t.Helper()
	path := filepath.Join(shortDir(t), "rpc.sock")
	ln, err := Listen(path, 0o600, "")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(h, slog.New(slog.DiscardHandler))
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return unixClient(path), path
}

func unixClient(path string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
			MaxIdleConnsPerHost: 64,
		},
	}
}

// post sends body to /rpc and returns the status and the response body.
func post(t testing.TB, c *http.Client, body string) (int, []byte) {
	t.Helper()
	resp, err := c.Post("http://hc/rpc", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func get(t testing.TB, c *http.Client, path string) (int, []byte) {
	t.Helper()
	resp, err := c.Get("http://hc" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// wireResponse is a response as a client reads it.
type wireResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int            `json:"code"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	} `json:"error"`
}

func decodeOne(t testing.TB, b []byte) wireResponse {
	t.Helper()
	var r wireResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
	return r
}

// call posts one request with id 1 and returns its response.
func call(t testing.TB, c *http.Client, method string, params any) wireResponse {
	t.Helper()
	req := map[string]any{"jsonrpc": "2.0", "method": method, "id": 1}
	if params != nil {
		req["params"] = params
	}
	b, _ := json.Marshal(req)
	_, out := post(t, c, string(b))
	return decodeOne(t, out)
}

// newAPIServer is the production method table over an in-memory state.
func newAPIServer(t testing.TB, policy Policy, info Info, auditor Auditor) (*Server, *core.Service) {
	t.Helper()
	svc := core.NewService(memstore.New())
	reg, err := Handlers(svc, info)
	if err != nil {
		t.Fatal(err)
	}
	if auditor == nil {
		auditor = svc
	}
	s, err := NewServer(Options{Handlers: reg, Policy: policy, Auditor: auditor, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, svc
}

var errBoom = errors.New("boom")
