package archtest

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// goList runs `go list args...` at the module root and returns its output.
// A failure fails the test with go list's own stderr: a build broken
// enough that go list cannot load it must turn these tests red, never
// green by skipping.
func goList(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr(err))
	}
	return out
}

// stderr is what a failed command wrote to its stderr, if it was kept.
func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
