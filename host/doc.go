// Package host is the hero_codescalers daemon: it opens the Badger state,
// runs the plugin manager, recovers unfinished journal entries, serves the
// JSON-RPC API on rpc.sock, and shuts all of it down cleanly on SIGTERM or
// SIGINT. The dashboard and the fleet agent join as host Components.
package host
