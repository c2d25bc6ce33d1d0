package host

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the soft memory limit (debug.SetMemoryLimit) the
// host runs under unless GOMEMLIMIT says otherwise (GOMEMLIMIT=off for
// none). Idle, the host holds ~20 MiB of heap; past the limit the runtime
// collects more often and returns freed pages sooner, so a burst (a
// 1,000-user batch, a dashboard page of 10,000 users) does not leave the
// heap at twice its peak. It is soft: a host that needs more gets it.
const DefaultMemoryLimit = 96 << 20

// setMemoryLimit applies DefaultMemoryLimit when GOMEMLIMIT is unset (the
// runtime has then read it already) and logs the limit in force.
func setMemoryLimit(log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	log.Debug("memory limit", "bytes", debug.SetMemoryLimit(-1))
}
