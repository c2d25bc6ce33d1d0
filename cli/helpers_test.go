package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// result is one in-process run of the CLI.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the command line in-process, as hero_codescalers (no
// server code), with env as the whole environment (HOME defaults to a
// fresh directory, so nothing reaches the real ~/hero).
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = shortDir(t)
	}
	var out, errb bytes.Buffer
	code := Main(Env{
		Args: args, Stdin: strings.NewReader(env["_STDIN"]), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
		Environ: func() []string {
			var kvs []string
			for k, v := range env {
				kvs = append(kvs, k+"="+v)
			}
			return kvs
		},
	}, nil)
	return result{out.String(), errb.String(), code}
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

// fakeHost answers JSON-RPC on a Unix socket with canned results per
// method, and records what it was asked.
type fakeHost struct {
	socket  string
	answers map[string]func(params json.RawMessage) (any, *api.Error)

	mu    sync.Mutex
	calls []string
	sent  []string
}

func newFakeHost(t *testing.T, answers map[string]func(json.RawMessage) (any, *api.Error)) *fakeHost {
	t.Helper()
	f := &fakeHost{socket: filepath.Join(shortDir(t), "rpc.sock"), answers: answers}
	ln, err := net.Listen("unix", f.socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(f.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fakeHost) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/health" {
		json.NewEncoder(w).Encode(api.HealthResult{Status: "ok", Version: "fake", UptimeSecs: 42})
		return
	}
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.calls = append(f.calls, req.Method)
	f.sent = append(f.sent, string(req.Params))
	f.mu.Unlock()
	resp := map[string]any{"jsonrpc": "2.0", "id": req.ID}
	answer, ok := f.answers[req.Method]
	if !ok {
		resp["error"] = &api.Error{Code: api.CodeMethodNotFound, Message: "method not found: " + req.Method}
	} else if res, werr := answer(req.Params); werr != nil {
		resp["error"] = werr
	} else {
		resp["result"] = res
	}
	json.NewEncoder(w).Encode(resp)
}

// record returns the methods called and their params, in order.
func (f *fakeHost) record() (calls, params []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...), append([]string(nil), f.sent...)
}

// fixed answers a method with the same result every time.
func fixed(v any) func(json.RawMessage) (any, *api.Error) {
	return func(json.RawMessage) (any, *api.Error) { return v, nil }
}
