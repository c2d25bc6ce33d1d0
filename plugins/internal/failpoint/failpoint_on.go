//go:build hc_failpoints

package failpoint

import (
	"os"
	"strings"
	"syscall"
)

// In a plugin built with -tags hc_failpoints, HC_FAILPOINTS (which a host
// of the same build passes on) lists name=action pairs separated by
// commas. The one action a plugin knows is "crash": the host (the
// plugin's parent when it execs plugins itself, as a root host does) is
// killed with SIGKILL on the spot, and the plugin with it, so what the
// call did so far is what a host crash at that point leaves behind.
func init() {
	spec := os.Getenv("HC_FAILPOINTS")
	if spec == "" {
		return
	}
	crash := map[string]bool{}
	for _, kv := range strings.Split(spec, ",") {
		if name, action, ok := strings.Cut(kv, "="); ok && action == "crash" {
			crash[name] = true
		}
	}
	hook = func(name string) {
		if !crash[name] {
			return
		}
		_ = syscall.Kill(os.Getppid(), syscall.SIGKILL)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
