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
// one per class of failure (exitcodes.go has the table that --help, the
// man page and the README show): 0 success, 1 failed, 2 usage, 3
// unavailable (host unreachable, a plugin unavailable, a degraded health,
// status of a stopped host), 4 not found, 5 already exists, 6 forbidden, 7
// conflict, 8 partial (some of many failed). Under --json an error is also
// one JSON object on stdout.
//
// Two commands report findings through the code as well: `reconcile` exits
// 1 when it finds drift, and `user-create --from` exits 8 when any user of
// the file was not created (and 2, creating nothing, when the file itself
// is bad).
package cli
