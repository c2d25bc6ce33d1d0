// Package cli is the command line of hero_codescalers: the kong command
// tree, the lifecycle of a background host (start, stop, status and their
// --start/--stop/--status spellings), the direct API calls with human
// tables or --json, and shell completion.
//
// It reaches the host only through the typed client in core/api/client, as
// any third-party tool would, and imports no host code: the three commands
// that run the host's own code (serve, plugin check, setup driver) call a
// Server, which package cli/server implements. Two binaries share this one
// command tree: hero_codescalers_server passes that Server to Main;
// hero_codescalers passes nil, so it stays small and quick to start (one
// process per call in scripts), and hands those three commands over to
// hero_codescalers_server with an exec (same pid, same arguments).
//
// Exit codes are part of the interface, because scripts branch on them:
//
//	0  success
//	1  the call failed (the host answered with an error), or a lifecycle
//	   action failed
//	2  usage: unknown command or flag, bad argument
//	3  the host cannot be reached (also: `status` of a stopped host)
//
// Two commands report findings through the code as well: `reconcile` exits
// 1 when it finds drift, and `user-create --from` exits 1 when any user of
// the file was not created (and 2, creating nothing, when the file itself
// is bad).
package cli
