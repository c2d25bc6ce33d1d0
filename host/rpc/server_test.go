package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestIDsEchoedUnchanged checks ids come back byte for byte: the server
// never decodes them into numbers or re-escapes strings.
func TestIDsEchoedUnchanged(t *testing.T) {
	s := newSpecServer(t, Options{})
	for _, id := range []string{
		`1`, `0`, `-7`, `1.0e+2`, `-0.5`, `12345678901234567890123456789012345`,
		`"1"`, `""`, `"a<b>&\u00e9\"x"`, `"\ud83d\ude00"`, `null`,
	} {
		req := `{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":` + id + `}`
		got := string(s.handle(context.Background(), []byte(req), nil))
		if want := `"id":` + id + `}`; !strings.HasSuffix(got, want) {
			t.Errorf("id %s: got %s", id, got)
		}
	}
}

func TestInvalidRequests(t *testing.T) {
	s := newSpecServer(t, Options{})
	tests := []struct {
		name, req, id string
	}{
		{"not an object", `"hello"`, `null`},
		{"null", `null`, `null`},
		{"no jsonrpc", `{"method":"subtract","id":1}`, `1`},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","method":"subtract","id":1}`, `1`},
		{"jsonrpc number", `{"jsonrpc":2.0,"method":"subtract","id":1}`, `1`},
		{"no method", `{"jsonrpc":"2.0","id":"x"}`, `"x"`},
		{"method not a string", `{"jsonrpc":"2.0","method":["a"],"id":2}`, `2`},
		{"method case", `{"jsonrpc":"2.0","Method":"subtract","id":2}`, `2`},
		{"params a string", `{"jsonrpc":"2.0","method":"subtract","params":"bar","id":3}`, `3`},
		{"params a number", `{"jsonrpc":"2.0","method":"subtract","params":1,"id":3}`, `3`},
		{"id an object", `{"jsonrpc":"2.0","method":"subtract","id":{}}`, `null`},
		{"id an array", `{"jsonrpc":"2.0","method":"subtract","id":[1]}`, `null`},
		{"id a bool", `{"jsonrpc":"2.0","method":"subtract","id":true}`, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := s.handle(context.Background(), []byte(tt.req), nil)
			r := decodeOne(t, out)
			if r.Error == nil || r.Error.Code != api.CodeInvalidRequest || string(r.ID) != tt.id {
				t.Fatalf("got %s, want -32600 with id %s", out, tt.id)
			}
		})
	}
}

func TestParams(t *testing.T) {
	s := newSpecServer(t, Options{})
	tests := []struct {
		name, params string
		code         int
		field        string
		result       string
	}{
		{"named", `{"minuend":5,"subtrahend":2}`, 0, "", "3"},
		{"positional", `[5,2]`, 0, "", "3"},
		{"unknown member", `{"minuend":5,"subtrahend":2,"bogus":1}`, api.CodeInvalidParams, "bogus", ""},
		{"member case", `{"Minuend":5,"subtrahend":2}`, api.CodeInvalidParams, "Minuend", ""},
		{"missing required", `{"minuend":5}`, api.CodeInvalidParams, "subtrahend", ""},
		{"required null", `{"minuend":5,"subtrahend":null}`, api.CodeInvalidParams, "subtrahend", ""},
		{"positional short", `[5]`, api.CodeInvalidParams, "subtrahend", ""},
		{"positional long", `[5,2,1]`, api.CodeInvalidParams, "params", ""},
		{"wrong type", `{"minuend":"five","subtrahend":2}`, api.CodeInvalidParams, "minuend", ""},
		{"fraction", `[5.5,2]`, api.CodeInvalidParams, "minuend", ""},
		{"absent", ``, api.CodeInvalidParams, "minuend", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := `{"jsonrpc":"2.0","method":"subtract","id":1`
			if tt.params != "" {
				req += `,"params":` + tt.params
			}
			out := s.handle(context.Background(), []byte(req+"}"), nil)
			r := decodeOne(t, out)
			if tt.code == 0 {
				if r.Error != nil || string(r.Result) != tt.result {
					t.Fatalf("got %s, want result %s", out, tt.result)
				}
				return
			}
			if r.Error == nil || r.Error.Code != tt.code || r.Error.Data["field"] != tt.field {
				t.Fatalf("got %s, want %d naming %q", out, tt.code, tt.field)
			}
			if strings.Contains(r.Error.Message, "five") {
				t.Fatalf("the error quotes the value: %s", r.Error.Message)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	c, _ := serveUnix(t, newSpecServer(t, Options{MaxBody: 1024, MaxBatch: 3}))
	status, out := post(t, c, `{"jsonrpc":"2.0","method":"get_data","id":1,"pad":"`+strings.Repeat("x", 2000)+`"}`)
	if r := decodeOne(t, out); status != http.StatusRequestEntityTooLarge || r.Error == nil || r.Error.Code != api.CodeInvalidRequest {
		t.Fatalf("big body: %d %s", status, out)
	}
	one := `{"jsonrpc":"2.0","method":"get_data","id":1}`
	_, out = post(t, c, "["+strings.Repeat(one+",", 3)+one+"]")
	if r := decodeOne(t, out); r.Error == nil || r.Error.Code != api.CodeInvalidRequest {
		t.Fatalf("long batch: %s", out)
	}
	_, out = post(t, c, "["+strings.Repeat(one+",", 2)+one+"]")
	var list []wireResponse
	if err := json.Unmarshal(out, &list); err != nil || len(list) != 3 {
		t.Fatalf("batch at the limit: %s", out)
	}
}

func TestHTTPRouting(t *testing.T) {
	c, _ := serveUnix(t, newSpecServer(t, Options{}))
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/rpc", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nowhere", http.StatusNotFound},
		{http.MethodGet, "/health", http.StatusNotFound}, // not in this table
		{http.MethodPost, "/openrpc.json", http.StatusNotFound},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://hc"+tt.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
	// Content-Type is not policed: curl -d sends form encoding.
	resp, err := c.Post("http://hc/rpc", "application/x-www-form-urlencoded", strings.NewReader(`{"jsonrpc":"2.0","method":"get_data","id":1}`))
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("form content type: %v %v", err, resp)
	}
	resp.Body.Close()
}

// TestHandlerFailures checks a panic and a foreign error both become
// -32603 without internal detail, and the server keeps answering.
func TestHandlerFailures(t *testing.T) {
	logs := &logBuffer{}
	c, _ := serveUnix(t, newSpecServer(t, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))}))
	for _, m := range []string{"panic", "fail"} {
		r := call(t, c, m, nil)
		if r.Error == nil || r.Error.Code != api.CodeInternalError || strings.Contains(r.Error.Message, "boom") {
			t.Fatalf("%s: %+v", m, r.Error)
		}
	}
	if !strings.Contains(logs.String(), "handler bug") {
		t.Fatalf("panic not logged: %s", logs)
	}
	if r := call(t, c, "subtract", []int{3, 1}); string(r.Result) != "2" {
		t.Fatalf("after the panic: %+v", r)
	}
}

func TestNewServerChecksTable(t *testing.T) {
	reg := func(extra bool) *Registry {
		r := specRegistry()
		if extra {
			Register(r, "extra", func(context.Context, api.Empty) (api.OK, error) { return api.OK{}, nil })
		}
		return r
	}
	withMethod := func(m api.Method) []api.Method { return append(append([]api.Method{}, specMethods...), m) }
	tests := []struct {
		name    string
		methods []api.Method
		reg     *Registry
		want    string
	}{
		{"missing handler", withMethod(api.Method{Name: "lost", Params: api.Empty{}, Result: api.OK{}}), reg(false), `"lost" has no handler`},
		{"extra handler", specMethods, reg(true), `"extra" has no entry`},
		{"wrong params type", withMethod(api.Method{Name: "extra", Params: api.NameParams{}, Result: api.OK{}}), reg(true), `handler takes api.Empty`},
		{"wrong result type", withMethod(api.Method{Name: "extra", Params: api.Empty{}, Result: 0}), reg(true), `returns api.OK`},
		{"bad target", withMethod(api.Method{Name: "extra", Params: api.Empty{}, Result: api.OK{}, Target: "name"}), reg(true), `target "name"`},
		{"duplicate", withMethod(specMethods[0]), reg(false), `twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(Options{Methods: tt.methods, Handlers: tt.reg})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := NewServer(Options{Methods: specMethods, Handlers: reg(false)}); err != nil {
		t.Fatalf("matching table: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	r := specRegistry()
	Register(r, "sum", func(context.Context, threeInts) (int, error) { return 0, nil })
}

func ExampleRegister() {
	r := NewRegistry()
	Register(r, "sum", func(_ context.Context, p threeInts) (int, error) { return p.A + p.B + p.C, nil })
	s, _ := NewServer(Options{
		Methods:  []api.Method{{Name: "sum", Params: threeInts{}, Result: 0}},
		Handlers: r,
	})
	fmt.Printf("%s\n", s.handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":7}`), nil))
	// Output: {"jsonrpc":"2.0","result":6,"id":7}
}
