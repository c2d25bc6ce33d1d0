package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// bufPool and outPool recycle request and response buffers: the health
// call is the hot path and should not allocate them per request.
var (
	bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	outPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
)

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 { // keep big bodies from pinning memory
		bufPool.Put(b)
	}
}

// serveRPC reads the body within the size limit, answers it and writes the
// response: 200 with a JSON body, 204 when everything was a notification,
// 413 with a JSON-RPC error when the body is too large.
func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	in := getBuf()
	defer putBuf(in)
	if _, err := in.ReadFrom(http.MaxBytesReader(w, r.Body, s.maxBody)); err != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			return // the client went away mid-body
		}
		msg := invalidRequest(fmt.Sprintf("body exceeds %d bytes", s.maxBody))
		writeJSON(w, http.StatusRequestEntityTooLarge, appendError(nil, nullID, msg))
		return
	}
	ctx := s.withCaller(r.Context())
	release, err := s.inflight.take(ctx)
	if err != nil {
		writeJSON(w, http.StatusTooManyRequests, appendError(nil, nullID, api.FromError(err)))
		return
	}
	defer release()
	out := outPool.Get().(*[]byte)
	resp := s.handle(ctx, in.Bytes(), (*out)[:0])
	answerWithin(ctx, w)
	if len(resp) == 0 {
		w.WriteHeader(http.StatusNoContent)
	} else {
		writeJSON(w, http.StatusOK, resp)
	}
	if cap(resp) <= 64<<10 {
		*out = resp[:0]
		outPool.Put(out)
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// handle answers one HTTP body: a single request or a batch. It appends
// the response to dst and returns it; nothing is appended when every call
// was a notification. It is what FuzzDecode drives.
func (s *Server) handle(ctx context.Context, body, dst []byte) []byte {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return appendError(dst, nullID, parseError())
	}
	if body[0] != '[' {
		return s.handleOne(ctx, body, dst)
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(body, &batch); err != nil {
		return appendError(dst, nullID, parseError())
	}
	if len(batch) == 0 {
		return appendError(dst, nullID, invalidRequest("empty batch"))
	}
	if len(batch) > s.maxBatch {
		return appendError(dst, nullID, invalidRequest(fmt.Sprintf("batch of %d exceeds %d calls", len(batch), s.maxBatch)))
	}
	start := len(dst)
	dst = append(dst, '[')
	empty := true
	for _, raw := range batch {
		mark := len(dst)
		if !empty {
			dst = append(dst, ',')
		}
		n := len(dst)
		if dst = s.handleOne(ctx, raw, dst); len(dst) == n {
			dst = dst[:mark] // a notification: no member, no comma
			continue
		}
		empty = false
	}
	if empty {
		return dst[:start] // all notifications: no response at all
	}
	return append(dst, ']')
}

// handleOne answers one request object, appending nothing for a
// notification.
func (s *Server) handleOne(ctx context.Context, raw json.RawMessage, dst []byte) []byte {
	req, answerID, perr := parseRequest(raw)
	if perr != nil {
		return appendError(dst, answerID, perr)
	}
	result, err := s.call(ctx, req)
	if req.id == nil {
		return dst
	}
	if err != nil {
		return appendError(dst, req.id, err)
	}
	return appendResult(dst, req.id, result)
}

// serveGet answers GET /health and GET /openrpc.json by calling the method
// of the same name, so both paths return the same document. /health is 503
// when the host is degraded, for probes that only read the status code.
func (s *Server) serveGet(w http.ResponseWriter, r *http.Request, name string) {
	m := s.methods[name]
	if m == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	ctx := s.withCaller(r.Context())
	release, err := s.inflight.take(ctx)
	if err != nil {
		writeJSON(w, http.StatusTooManyRequests, appendError(nil, nullID, api.FromError(err)))
		return
	}
	defer release()
	res, err := s.invoke(ctx, m, m.params.zero)
	answerWithin(ctx, w)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, appendError(nil, nullID, api.FromError(err)))
		return
	}
	body, err := json.Marshal(res)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, appendError(nil, nullID, internalError()))
		return
	}
	status := http.StatusOK
	if h, ok := res.(api.HealthResult); ok && h.Status != StatusOK {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}
