// Package client is the typed JSON-RPC 2.0 client of hero_codescalers. It
// speaks HTTP over the host's Unix socket (rpc.sock), keeps connections
// alive between calls, returns the server's errors as *api.Error, and marks
// a host that is not there (socket missing, connection refused) so a caller
// can tell "not running" apart from "the call failed".
//
// The CLI is its first user; examples/ and third-party tools use it the
// same way:
//
//	c := client.New(paths.RPCSocket)
//	nodes, err := c.NodeList(ctx)
package client
