// Package host is the hero_codescalers daemon: it opens the Badger state,
// serves the JSON-RPC API on rpc.sock, runs the plugin manager and the
// dashboard, and shuts all of it down cleanly on SIGTERM or SIGINT.
package host
