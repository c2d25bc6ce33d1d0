package plugins

import "time"

// ConfigValues exposes configValues to the external tests.
var ConfigValues = configValues

// SetCallLimits shortens the plugin calls' own time limits for a test.
func SetCallLimits(read, work time.Duration) (restore func()) {
	r, w := readLimit, workLimit
	readLimit, workLimit = read, work
	return func() { readLimit, workLimit = r, w }
}
