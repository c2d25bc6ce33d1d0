package sdk

import (
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the soft memory limit (debug.SetMemoryLimit) a
// plugin runs under unless GOMEMLIMIT says otherwise (GOMEMLIMIT=off for
// none). A plugin's live heap is a few MiB even in a 1,000-user batch;
// past the limit the runtime collects more often and hands freed pages
// back sooner instead of letting the heap settle at twice its peak. It is
// soft: a plugin that needs more gets it, at the cost of more collections.
const DefaultMemoryLimit = 32 << 20

// setMemoryLimit applies DefaultMemoryLimit when GOMEMLIMIT is unset (the
// runtime has then read it already). sudo's env_reset drops GOMEMLIMIT,
// so a plugin started through sudo always runs under the default.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}
