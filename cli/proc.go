package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// isServe reports whether pid is a hero_codescalers host started with
// `serve`. stop checks it before signalling a pid read from a file: even
// with the lock held, the file's content is only text, and a signal sent
// to the wrong process is not something to undo.
func isServe(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	if len(args) < 2 || !slices.Contains(args[1:], "serve") {
		return false
	}
	return ourName(filepath.Base(args[0])) || ourName(exeName(pid))
}

// exeName is the base name of /proc/PID/exe, without the " (deleted)" the
// kernel appends once `make install` has replaced the binary.
func exeName(pid int) string {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	return filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
}

// ourName accepts the installed names — the host runs as
// hero_codescalers_server, which start launches and to which
// `hero_codescalers serve` hands over — and whatever this binary is called
// (a test build, a renamed copy).
func ourName(name string) bool {
	if name == "" {
		return false
	}
	if name == "hero_codescalers" || name == ServerName {
		return true
	}
	self, err := os.Executable()
	return err == nil && name == filepath.Base(self)
}

// errTimeout is what waitFor returns when the deadline passes.
var errTimeout = errors.New("timed out")

// waitFor polls cond until it reports done, fails, or timeout passes. The
// interval starts short, so a fast host is seen quickly, and grows, so a
// slow one is not hammered. This is waiting on a condition, not a sleep:
// it returns as soon as the condition holds.
func waitFor(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := 5 * time.Millisecond
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errTimeout
			}
			return ctx.Err()
		case <-time.After(interval):
		}
		interval = min(interval*2, 200*time.Millisecond)
	}
}

// tail returns the last n lines of path from offset on: what a host that
// failed to start wrote, without the history of earlier runs.
func tail(path string, offset int64, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
