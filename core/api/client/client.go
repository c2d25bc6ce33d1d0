package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// maxResponse bounds what a reply may weigh, so a confused peer on the
// socket cannot make the client allocate without limit.
const maxResponse = 64 << 20

// Client calls one host over its rpc.sock. It is safe for concurrent use;
// idle connections are kept and reused, which is what makes a burst of calls
// cheap (one connect per concurrent caller, not per call).
type Client struct {
	socket string
	http   *http.Client
	nextID atomic.Int64
}

// New returns a client for the host listening on socketPath. Nothing is
// dialled until the first call.
func New(socketPath string) *Client {
	c := &Client{socket: socketPath}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, "unix", socketPath)
			if err != nil {
				return nil, &DialError{Socket: socketPath, Err: err}
			}
			if err := checkPeer(conn, socketPath); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		},
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	c.http = &http.Client{Transport: tr}
	return c
}

// Socket is the path this client dials.
func (c *Client) Socket() string { return c.socket }

// Close drops the idle connections; the client stays usable.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// request is a JSON-RPC 2.0 request; Params is left out when nil, which
// the specification allows for methods that take none.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int64  `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params,omitempty"`
}

// response is a JSON-RPC 2.0 response, with the result kept raw until the
// caller's type is known.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *api.Error      `json:"error"`
}

// Call invokes method with params and decodes the result into result (a
// pointer; nil discards it, a *json.RawMessage keeps it verbatim). A
// JSON-RPC error comes back as *api.Error; a host that is not there as an
// error for which IsUnreachable is true.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("%s: encode params: %w", method, err)
	}
	raw, status, err := c.do(ctx, http.MethodPost, "/rpc", body)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	var resp response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("%s: HTTP %d: not a JSON-RPC response: %s", method, status, snippet(raw))
	}
	if resp.Error != nil {
		return resp.Error
	}
	if string(resp.ID) != fmt.Sprint(id) {
		return fmt.Errorf("%s: response id %s does not match request id %d", method, resp.ID, id)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("%s: decode result: %w", method, err)
	}
	return nil
}

// GetHealth asks GET /health, the probe that needs no JSON-RPC framing:
// what a load balancer, curl or the lifecycle commands use.
func (c *Client) GetHealth(ctx context.Context) (api.HealthResult, error) {
	var h api.HealthResult
	raw, status, err := c.do(ctx, http.MethodGet, "/health", nil)
	if err != nil {
		return h, fmt.Errorf("GET /health: %w", err)
	}
	// 503 is a degraded host (a plugin not ready): it still answers, and
	// its body says what is wrong.
	if status != http.StatusOK && status != http.StatusServiceUnavailable {
		return h, fmt.Errorf("GET /health: HTTP %d: %s", status, snippet(raw))
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return h, fmt.Errorf("GET /health: HTTP %d: %w", status, err)
	}
	return h, nil
}

// do sends one HTTP request over the socket and returns the body.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// The host part is ignored: the transport always dials the socket.
	req, err := http.NewRequestWithContext(ctx, method, "http://localhost"+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, unwrapURL(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("read response: %w", err)
	}
	return raw, resp.StatusCode, nil
}

// snippet keeps error messages readable when the peer answered something
// that is not JSON-RPC.
func snippet(b []byte) string {
	const n = 200
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
