package plugintest_test

import (
	"os"
	"testing"
)

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// tempDirOutsideTest holds the one test plugin build shared by all tests
// of this binary; t.TempDir would vanish with the first test.
func tempDirOutsideTest() (string, error) { return os.MkdirTemp("", "plugintest-build-") }

// TestMain removes the shared test plugin build after all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
