// Package rpc serves the hero_codescalers JSON-RPC 2.0 API over HTTP on a
// Unix socket: POST /rpc for single calls, batches and notifications,
// GET /health and GET /openrpc.json.
//
// The server dispatches from the method table in core/api, so a method
// cannot exist in the table without a handler or the other way round, and
// the OpenRPC document is generated from the same table. The caller is
// identified by SO_PEERCRED on the socket; privileged methods need root,
// the host's own uid or a member of the admin group, and every call to a
// mutating method is written to the audit log without its params.
package rpc
