package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// FuzzDecode drives the decoder and dispatcher with arbitrary bodies,
// over the real method table and an in-memory state, as a privileged
// caller so the mutating methods run too. Whatever the body, the server
// must not panic and must answer with a valid JSON-RPC response, or with
// nothing when the body was valid JSON made only of notifications. The
// seeds are in testdata/fuzz/FuzzDecode; run longer with
// go test -fuzz FuzzDecode ./host/rpc/.
func FuzzDecode(f *testing.F) {
	s, _ := newAPIServer(f, allowAll, Info{Version: "fuzz"}, nil)
	ctx := s.withCaller(core.WithCaller(context.Background(), core.Caller{UID: 0}))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := s.handle(ctx, body, nil)
		if len(out) == 0 {
			if !json.Valid(body) {
				t.Fatalf("no answer to invalid JSON %q", body)
			}
			return
		}
		checkAnswer(t, body, out)
	})
}

// checkAnswer asserts out is one response object or a non-empty array of
// them.
func checkAnswer(t *testing.T, body, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("invalid JSON answer %q to %q", out, body)
	}
	if trimmed := bytes.TrimSpace(out); trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil || len(list) == 0 {
			t.Fatalf("bad batch answer %q to %q", out, body)
		}
		for _, r := range list {
			checkResponse(t, body, r)
		}
		return
	}
	checkResponse(t, body, out)
}

// checkResponse asserts the specification's Response object: jsonrpc
// "2.0", an id that is a string, a number or null, and exactly one of
// result and error, the error with an integer code and a string message.
func checkResponse(t *testing.T, body, raw []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer %q to %q is not an object", raw, body)
	}
	_, hasResult := m["result"]
	errRaw, hasError := m["error"]
	id, hasID := m["id"]
	if string(m["jsonrpc"]) != `"2.0"` || !hasID || !validID(id) || hasResult == hasError || len(m) != 3 {
		t.Fatalf("answer %q to %q is not a JSON-RPC response", raw, body)
	}
	if hasError {
		var e struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(errRaw, &e); err != nil || e.Code == nil || e.Message == nil {
			t.Fatalf("bad error object %q to %q", errRaw, body)
		}
	}
}
