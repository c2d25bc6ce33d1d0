package state

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/state/storetest"
)

func wantInUse(t *testing.T, err error, dir string, pid int) {
	t.Helper()
	want := fmt.Sprintf("data dir %s is in use by another hero_codescalers process (pid %d)", dir, pid)
	if !core.IsCode(err, core.FailedPrecondition) || err.Error() != want {
		t.Fatalf("got %v, want FailedPrecondition %q", err, want)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	first := openAt(t, dir, testSecret)
	_, err := Open(Options{Dir: dir, Secret: testSecret})
	wantInUse(t, err, dir, os.Getpid())

	storetest.Put(t, first, "still", "works")
	first.Close()
	openAt(t, dir, testSecret) // the lock went with Close
}

// TestSecondProcessRefused runs a real second process: this test binary
// re-executed into TestHelperOpen.
func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, testSecret)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOpen$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STATE_TEST_OPEN_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	want := fmt.Sprintf("data dir %s is in use by another hero_codescalers process (pid %d)", dir, os.Getpid())
	if !strings.Contains(string(out), "OPEN ERROR: "+want) {
		t.Fatalf("second process said:\n%s\nwant %q", out, want)
	}
}

// TestHelperOpen is the second process of TestSecondProcessRefused.
func TestHelperOpen(t *testing.T) {
	dir := os.Getenv("STATE_TEST_OPEN_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := Open(Options{Dir: dir, Secret: testSecret})
	if err == nil {
		s.Close()
	}
	fmt.Printf("OPEN ERROR: %v\n", err)
}

// TestBadgerLockRecognised: when something other than a hero_codescalers
// host holds Badger's directory (a badger CLI, say), Badger's own lock
// error is rewrapped into the same message, with the pid Badger recorded.
func TestBadgerLockRecognised(t *testing.T) {
	dir := t.TempDir()
	bdir := filepath.Join(dir, badgerSubdir)
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bdir, "LOCK"), []byte("4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := os.Open(bdir)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{Dir: dir, Secret: testSecret})
	wantInUse(t, err, dir, 4242)

	d.Close() // the other tool exits
	openAt(t, dir, testSecret)
}

func TestReadPid(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]int{"123\n": 123, "": 0, "garbage": 0, "-5": 0}
	for content, want := range cases {
		path := filepath.Join(dir, "pid")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := readPid(path); got != want {
			t.Errorf("readPid(%q) = %d, want %d", content, got, want)
		}
	}
	if got := readPid(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("readPid(missing) = %d", got)
	}
}
