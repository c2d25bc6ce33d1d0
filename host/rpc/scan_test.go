package rpc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSplitRequest checks the hand-written member scanner against
// encoding/json on every valid object: the four members a request is
// made of must come out byte for byte the same.
func FuzzSplitRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","method":"health","id":1}`,
		`{ "id" : "a,}]\"" , "params" : {"x":[1,{"y":"]}"}]}, "method":"m" }`,
		`{"\u006dethod":"m","jsonrpc":"2\u002e0","id":null,"params":[]}`,
		`{"method":"a","method":"b","id":1,"id":-2.5e3}`,
		`{"Method":"x","ID":1,"nested":{"method":"no"}}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		obj = bytes.TrimSpace(obj)
		var want map[string]json.RawMessage
		if !json.Valid(obj) || len(obj) == 0 || obj[0] != '{' || json.Unmarshal(obj, &want) != nil {
			return
		}
		got := splitRequest(obj)
		_, hasID := want["id"]
		if !bytes.Equal(got.jsonrpc, want["jsonrpc"]) || !bytes.Equal(got.method, want["method"]) ||
			!bytes.Equal(got.params, want["params"]) || !bytes.Equal(got.id, want["id"]) || got.hasID != hasID {
			t.Fatalf("%s: got %q %q %q %q, want %q", obj, got.jsonrpc, got.method, got.params, got.id, want)
		}
	})
}
