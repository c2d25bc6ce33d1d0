// Package netlimit bounds the connections a listener holds, so a flood of
// clients cannot use up the host's open-file limit and lock everyone out.
//
// A plain cap (golang.org/x/net/netutil.LimitListener) is not enough for
// HTTP: a client past the cap waits behind idle keep-alive connections
// that will not close for minutes. A Limiter therefore also watches each
// connection's state through http.Server.ConnState and, when the listener
// nears its cap, closes the connections that have been quiet longest
// (idle between requests, or accepted and still silent) to make room. A
// connection with a request in flight is never closed; when every slot is
// busy, Accept waits for one to free.
//
// One Limiter is one budget: rpc.sock has its own, and the dashboard's
// admin.sock and TCP listeners can share another by wrapping both with
// the same Limiter. DefaultMax derives a budget from RLIMIT_NOFILE.
package netlimit
