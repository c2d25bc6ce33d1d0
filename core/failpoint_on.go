//go:build hc_failpoints

package core

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// In a binary built with -tags hc_failpoints, HC_FAILPOINTS lists
// name=action pairs separated by commas: action "error" makes the step
// fail, "crash" kills the process with SIGKILL on the spot, as a power cut
// would, and "pause" announces itself on stderr and holds the step for a
// few seconds, so a test can kill a plugin while the create is mid-way.
func init() {
	spec := os.Getenv("HC_FAILPOINTS")
	if spec == "" {
		return
	}
	actions := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		if name, action, ok := strings.Cut(kv, "="); ok {
			actions[name] = action
		}
	}
	failpointHook = func(name string) error {
		switch actions[name] {
		case "error":
			return Errorf(Internal, "failpoint %s", name)
		case "crash":
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		case "pause":
			fmt.Fprintf(os.Stderr, "failpoint %s: paused\n", name)
			time.Sleep(3 * time.Second)
		}
		return nil
	}
}
