package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/core"
)

// lockFileName is our own lock in the data dir. Badger has a lock of its own
// in badger/, but its error is a flattened string without the errno, so we
// take a lock we can recognise first and read the holder's pid from it.
const lockFileName = "hero_codescalers.lock"

// dirLock is an exclusive flock on the data dir's lock file. flock locks
// belong to the open file description, so a second Open in the same process
// is refused just like a second process, and the kernel drops the lock when
// the holder dies: a stale lock file never blocks a restart.
type dirLock struct{ f *os.File }

// lockDir takes the data dir's lock or explains who holds it.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, core.Wrap(err, core.FailedPrecondition, "cannot open the lock file %s: %v", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, inUseError(dir, readPid(path), err)
		}
		return nil, core.Wrap(err, core.Internal, "cannot lock the data dir %s: %v", dir, err)
	}
	// The pid is for the error message of the next process only; failing to
	// write it is not worth refusing to start.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// release drops the lock. The file stays: removing it would race with a
// process that has just opened it and is about to lock it.
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// inUseError is the one message for a data dir held by someone else, whether
// our lock or Badger's caught it.
func inUseError(dir string, pid int, cause error) *core.Error {
	holder := ""
	if pid > 0 {
		holder = fmt.Sprintf(" (pid %d)", pid)
	}
	return core.Wrap(cause, core.FailedPrecondition,
		"data dir %s is in use by another hero_codescalers process%s", dir, holder)
}

// readPid reads a pid file; 0 when it is missing or unreadable.
func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// isBadgerLockError recognises Badger's own directory-lock failure. Badger
// flattens the errno into text (y.Wrapf outside its debug mode), so the
// message is all there is; we only get here when something other than a
// hero_codescalers host (a badger CLI, an older binary) holds badger/.
func isBadgerLockError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock")
}
