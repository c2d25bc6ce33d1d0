//go:build hc_failpoints

package host

import "os"

// In a test build the host hands HC_FAILPOINTS on to its plugins (built
// with the same tag), so a test can stop a plugin mid-call as a host crash
// would (plugins/internal/failpoint).
func init() {
	failpointEnv = func() []string {
		if v := os.Getenv("HC_FAILPOINTS"); v != "" {
			return []string{"HC_FAILPOINTS=" + v}
		}
		return nil
	}
}
