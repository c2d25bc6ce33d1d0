package netlimit

import "golang.org/x/sys/unix"

// The shape of DefaultMax. The host keeps a reserve of descriptors for
// itself (Badger's tables and value logs, the plugins' sockets and pipes,
// the log, the data dir lock) and splits the rest between the listeners it
// may run: rpc.sock, the dashboard's admin.sock and TCP listener, and the
// fleet's NATS. The ceiling bounds memory (a connection costs a goroutine
// and its buffers, ~20 KB) where the file limit is huge, and is far more
// concurrent callers than an admin's scripts need.
const (
	reserveMax = 1024
	shares     = 4
	ceiling    = 4096
	floor      = 16
)

// DefaultMax is the connection budget of one listener of this process,
// derived from its RLIMIT_NOFILE (which the Go runtime has raised to the
// hard limit at start): see maxFor.
func DefaultMax() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return maxFor(1024)
	}
	return maxFor(rl.Cur)
}

// maxFor is DefaultMax for a file limit of nofile: (nofile − reserve) / 4
// with a reserve of half the limit up to 1024, clamped to [16, 4096].
// nofile 1024 gives 128; 4096 gives 768; 20000 and more give 4096.
func maxFor(nofile uint64) int {
	reserve := min(nofile/2, reserveMax)
	n := (nofile - reserve) / shares
	return int(max(min(n, ceiling), floor))
}
