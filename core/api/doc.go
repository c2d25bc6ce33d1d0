// Package api is the JSON-RPC 2.0 contract of hero_codescalers: the method
// table (names, params and result types, who may call them), the wire error
// codes, the instance paths that tell a client where a host listens, and the
// OpenRPC document generated from the same table that dispatches calls.
//
// The host, the CLI, the dashboard and third-party clients all share this
// package, so a method cannot exist in one of them and not in the others.
package api
