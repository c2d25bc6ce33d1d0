package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/core/api/sockdir"
)

// The pid file is also the host's liveness lock. A serving host holds an
// open-file-description (OFD) write lock on it for its whole life; the
// kernel drops the lock when the process dies, however it dies. So:
//
//   - "running" means "the lock is held", never "a pid in a file is
//     alive", which pid reuse makes a guess;
//   - two hosts racing for one instance cannot both win: the loser's lock
//     fails before it touches the socket or the data dir;
//   - a stale file is one whose lock is free, and whoever removes it holds
//     the lock while unlinking, so it never removes a live host's file.
//
// Probing uses F_OFD_GETLK, which tests without taking the lock, so a
// `status` running at the moment a host starts cannot make it fail.

// errRunning says a live host holds the pid file.
type errRunning struct{ pid int }

func (e *errRunning) Error() string { return fmt.Sprintf("already running, pid %d", e.pid) }

// pidLock is a held pid file.
type pidLock struct {
	f    *os.File
	dir  *sockdir.Dir
	name string
}

// wholeFile is the lock range: the whole file, whatever its length.
func wholeFile(typ int16) *unix.Flock_t {
	return &unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: 0, Len: 0}
}

// lockPIDFile opens path (creating it, and the socket dir, when create is
// set) and takes its lock without waiting. The socket dir and the file are
// opened without following links (sockdir): PATH_SOCKET may be a directory
// others can write. It retries when the file it locked was unlinked
// meanwhile (a host exiting or a stale file being removed), so the lock it
// returns is on the file path names.
func lockPIDFile(path string, create bool) (*pidLock, error) {
	open := sockdir.OpenExisting
	flags := os.O_RDWR
	if create {
		open, flags = sockdir.Open, flags|os.O_CREATE
	}
	d, err := open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	for range 20 {
		f, err := d.OpenFile(name, flags, 0o644)
		if err != nil {
			d.Close()
			return nil, err
		}
		if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, wholeFile(unix.F_WRLCK)); err != nil {
			pid := readPID(f)
			f.Close()
			d.Close()
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
				return nil, &errRunning{pid: pid}
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if d.Names(name, f) {
			return &pidLock{f: f, dir: d, name: name}, nil
		}
		f.Close()
	}
	d.Close()
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", path)
}

// writePID records pid in the held file, replacing what a dead host left.
func (l *pidLock) writePID(pid int) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// release removes the file while still holding the lock, then drops it:
// in that order no one can find the file unlocked and take it for stale.
func (l *pidLock) release() {
	if l.dir.Names(l.name, l.f) {
		l.dir.Remove(l.name)
	}
	l.f.Close()
	l.dir.Close()
}

// pidState is what a look at the pid file finds.
type pidState struct {
	pid    int  // the pid written in the file, 0 when none
	live   bool // a host holds the lock
	exists bool // the file exists
}

// probePID looks at the pid file without taking its lock, and without
// following a link to it or to its directory.
func probePID(path string) (pidState, error) {
	d, err := sockdir.OpenExisting(filepath.Dir(path))
	if errors.Is(err, os.ErrNotExist) {
		return pidState{}, nil
	}
	if err != nil {
		return pidState{}, err
	}
	defer d.Close()
	f, err := d.OpenFile(filepath.Base(path), os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return pidState{}, nil
	}
	if err != nil {
		return pidState{}, err
	}
	defer f.Close()
	st := pidState{pid: readPID(f), exists: true}
	lk := wholeFile(unix.F_RDLCK)
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, lk); err != nil {
		return st, fmt.Errorf("probe %s: %w", path, err)
	}
	st.live = lk.Type != unix.F_UNLCK
	return st, nil
}

// removeStale deletes the pid file if no host holds it, and reports the pid
// it named. A host that has just taken it keeps it.
func removeStale(path string) (pid int, removed bool, err error) {
	l, err := lockPIDFile(path, false)
	var running *errRunning
	if errors.As(err, &running) || errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	pid = readPID(l.f)
	l.release()
	return pid, true, nil
}

// readPID reads the pid written in f; 0 when there is none.
func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
