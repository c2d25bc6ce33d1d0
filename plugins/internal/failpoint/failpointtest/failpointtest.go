// Package failpointtest stops a plugin's call at a failpoint in a unit
// test, as a crash of the plugin there would.
package failpointtest

import (
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint"
)

// CrashAt runs fn, stopping it at the named point by a panic there (which
// unwinds its locks, as the process's end frees them); it fails t when fn
// never reached the point.
func CrashAt(t testing.TB, point string, fn func()) {
	t.Helper()
	hit := false
	restore := failpoint.SetHook(func(name string) {
		if name == point {
			hit = true
			panic("crash at " + name)
		}
	})
	defer restore()
	func() {
		defer func() { _ = recover() }()
		fn()
	}()
	if !hit {
		t.Fatalf("the call never reached %s", point)
	}
}
