package rpc

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The methods of the JSON-RPC 2.0 specification's examples (§7), served
// through the same table-and-registry machinery as the real API.
type subtractParams struct {
	Minuend    int `json:"minuend" required:"true"`
	Subtrahend int `json:"subtrahend" required:"true"`
}

type threeInts struct {
	A int `json:"a"`
	B int `json:"b"`
	C int `json:"c"`
}

type fiveInts struct {
	A, B, C, D, E int
}

type oneInt struct {
	N int `json:"n"`
}

var specMethods = []api.Method{
	{Name: "subtract", Params: subtractParams{}, Result: 0},
	{Name: "sum", Params: threeInts{}, Result: 0},
	{Name: "notify_sum", Params: threeInts{}, Result: api.OK{}},
	{Name: "update", Params: fiveInts{}, Result: api.OK{}},
	{Name: "notify_hello", Params: oneInt{}, Result: api.OK{}},
	{Name: "get_data", Params: api.Empty{}, Result: []any{}},
	{Name: "panic", Params: api.Empty{}, Result: api.OK{}},
	{Name: "fail", Params: api.Empty{}, Result: api.OK{}},
}

func specRegistry() *Registry {
	r := NewRegistry()
	Register(r, "subtract", func(_ context.Context, p subtractParams) (int, error) { return p.Minuend - p.Subtrahend, nil })
	Register(r, "sum", func(_ context.Context, p threeInts) (int, error) { return p.A + p.B + p.C, nil })
	Register(r, "notify_sum", func(_ context.Context, p threeInts) (api.OK, error) { return api.OK{OK: true}, nil })
	Register(r, "update", func(_ context.Context, p fiveInts) (api.OK, error) { return api.OK{OK: true}, nil })
	Register(r, "notify_hello", func(_ context.Context, p oneInt) (api.OK, error) { return api.OK{OK: true}, nil })
	Register(r, "get_data", func(context.Context, api.Empty) ([]any, error) { return []any{"hello", 5}, nil })
	Register(r, "panic", func(context.Context, api.Empty) (api.OK, error) { panic("handler bug") })
	Register(r, "fail", func(context.Context, api.Empty) (api.OK, error) { return api.OK{}, errBoom })
	return r
}

func newSpecServer(t testing.TB, o Options) *Server {
	t.Helper()
	o.Methods, o.Handlers = specMethods, specRegistry()
	if o.Policy == nil {
		o.Policy = allowAll
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// normalise drops error messages and data, which the specification leaves
// to the server, so responses compare by code, id and result.
func normalise(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	strip := func(m any) {
		if e, ok := m.(map[string]any)["error"].(map[string]any); ok {
			delete(e, "message")
			delete(e, "data")
		}
	}
	if list, ok := v.([]any); ok {
		for _, m := range list {
			strip(m)
		}
	} else {
		strip(v)
	}
	return v
}

// TestSpecExamples runs every example of the specification's §7.
func TestSpecExamples(t *testing.T) {
	c, _ := serveUnix(t, newSpecServer(t, Options{}))
	tests := []struct {
		name, req, want string
	}{
		{"positional", `{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`, `{"jsonrpc": "2.0", "result": 19, "id": 1}`},
		{"positional reversed", `{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}`, `{"jsonrpc": "2.0", "result": -19, "id": 2}`},
		{"named", `{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}`, `{"jsonrpc": "2.0", "result": 19, "id": 3}`},
		{"named reordered", `{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}`, `{"jsonrpc": "2.0", "result": 19, "id": 4}`},
		{"notification", `{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`, ``},
		{"notification unknown method", `{"jsonrpc": "2.0", "method": "foobar"}`, ``},
		{"method not found", `{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`, `{"jsonrpc": "2.0", "error": {"code": -32601}, "id": "1"}`},
		{"invalid JSON", `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`, `{"jsonrpc": "2.0", "error": {"code": -32700}, "id": null}`},
		{"invalid request object", `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`, `{"jsonrpc": "2.0", "error": {"code": -32600}, "id": null}`},
		{"batch invalid JSON", `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`, `{"jsonrpc": "2.0", "error": {"code": -32700}, "id": null}`},
		{"empty array", `[]`, `{"jsonrpc": "2.0", "error": {"code": -32600}, "id": null}`},
		{"invalid batch of one", `[1]`, `[{"jsonrpc": "2.0", "error": {"code": -32600}, "id": null}]`},
		{"invalid batch", `[1,2,3]`, `[
  {"jsonrpc": "2.0", "error": {"code": -32600}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600}, "id": null}]`},
		{"mixed batch", `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
  {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
  {"foo": "boo"},
  {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
  {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
]`, `[
  {"jsonrpc": "2.0", "result": 7, "id": "1"},
  {"jsonrpc": "2.0", "result": 19, "id": "2"},
  {"jsonrpc": "2.0", "error": {"code": -32600}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32601}, "id": "5"},
  {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}]`},
		{"batch of notifications", `[
  {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
]`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := post(t, c, tt.req)
			if tt.want == "" {
				if status != http.StatusNoContent || len(got) != 0 {
					t.Fatalf("want no response, got %d %q", status, got)
				}
				return
			}
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, got)
			}
			if g, w := normalise(t, got), normalise(t, []byte(tt.want)); !reflect.DeepEqual(g, w) {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSpecMessages checks the messages start with the specification's.
func TestSpecMessages(t *testing.T) {
	s := newSpecServer(t, Options{})
	tests := []struct{ req, prefix string }{
		{`{`, "Parse error"},
		{`[]`, "Invalid Request"},
		{`{"jsonrpc":"2.0","method":"nope","id":1}`, "Method not found"},
	}
	for _, tt := range tests {
		r := decodeOne(t, s.handle(context.Background(), []byte(tt.req), nil))
		if r.Error == nil || !strings.HasPrefix(r.Error.Message, tt.prefix) {
			t.Errorf("%s: %+v, want message %q...", tt.req, r.Error, tt.prefix)
		}
	}
}
