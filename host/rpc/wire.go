package rpc

import (
	"bytes"
	"encoding/json"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// request is one call of a single request or a batch, after the checks of
// the specification's Request object.
type request struct {
	// id is the member exactly as sent, nil when absent: then the call is
	// a notification and gets no response.
	id     json.RawMessage
	method string
	// params is nil when absent or null.
	params json.RawMessage
}

var nullID = json.RawMessage("null")

// Protocol errors, with the messages of the specification.
func parseError() *api.Error {
	return &api.Error{Code: api.CodeParseError, Message: "Parse error"}
}

func invalidRequest(detail string) *api.Error {
	return &api.Error{Code: api.CodeInvalidRequest, Message: "Invalid Request: " + detail}
}

func methodNotFound(name string) *api.Error {
	return &api.Error{Code: api.CodeMethodNotFound, Message: "Method not found: " + clip(name)}
}

// members are the members of a request object the specification names.
type members struct {
	jsonrpc, method, params, id []byte
	hasID                       bool
}

func splitRequest(obj []byte) members {
	var m members
	eachMember(obj, func(key []byte, escaped bool, v []byte) {
		switch {
		case keyIs(key, escaped, "jsonrpc"):
			m.jsonrpc = v
		case keyIs(key, escaped, "method"):
			m.method = v
		case keyIs(key, escaped, "params"):
			m.params = v
		case keyIs(key, escaped, "id"):
			m.id, m.hasID = v, true
		}
	})
	return m
}

// parseRequest checks one member of a batch (or the single request) against
// the specification's Request object. An invalid request still gets an
// answer, with its id when that could be read and null otherwise. raw is
// valid JSON.
func parseRequest(raw json.RawMessage) (request, json.RawMessage, *api.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return request{}, nullID, invalidRequest("not an object")
	}
	m := splitRequest(raw)
	var r request
	if m.hasID {
		if !validID(m.id) {
			return request{}, nullID, invalidRequest("id must be a string, a number or null")
		}
		r.id = m.id
	}
	answerID := r.id
	if answerID == nil {
		answerID = nullID
	}
	if v, ok := stringValue(m.jsonrpc); !ok || v != "2.0" {
		return request{}, answerID, invalidRequest(`jsonrpc must be "2.0"`)
	}
	method, ok := stringValue(m.method)
	if !ok {
		return request{}, answerID, invalidRequest("method must be a string")
	}
	r.method = method
	if p := m.params; p != nil && string(p) != "null" {
		if p[0] != '{' && p[0] != '[' {
			return request{}, answerID, invalidRequest("params must be an object or an array")
		}
		r.params = p
	}
	return r, nil, nil
}

// validID accepts what the specification allows: a string, a number or
// null. The bytes are echoed unchanged, so 1.0e3 stays 1.0e3.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	default:
		return string(id) == "null"
	}
}

// appendResult writes a success response. id is written byte for byte:
// encoding/json would rewrite "<" in a string id as \u003c.
func appendResult(dst []byte, id json.RawMessage, result []byte) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","result":`...)
	dst = append(dst, result...)
	dst = append(dst, `,"id":`...)
	dst = append(dst, id...)
	return append(dst, '}')
}

// appendError writes an error response.
func appendError(dst []byte, id json.RawMessage, e *api.Error) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		b = []byte(`{"code":-32603,"message":"Internal error"}`)
	}
	dst = append(dst, `{"jsonrpc":"2.0","error":`...)
	dst = append(dst, b...)
	dst = append(dst, `,"id":`...)
	dst = append(dst, id...)
	return append(dst, '}')
}
