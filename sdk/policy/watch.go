package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Watch keeps a Machine fresh for a plugin that judges every call by the
// account files (a sessions plugin: is this user managed?). It re-reads
// them only when one changed — by inode, size or modification time, and
// the shadow tools replace them by rename, so every edit changes the
// inode — so a call costs three stats, not a parse of passwd and group.
type Watch struct {
	p     Policy
	etc   string
	mu    sync.Mutex
	m     *Machine
	stamp [3]stamp
}

// stamp is what tells one version of a file from the next.
type stamp struct {
	ino, size uint64
	mtime     syscall.Timespec
	missing   bool
}

// NewWatch watches etcDir's account files under p.
func NewWatch(p Policy, etcDir string) *Watch { return &Watch{p: p, etc: etcDir} }

// Policy is the policy the watch judges by.
func (w *Watch) Policy() Policy { return w.p }

// Machine returns the view of the account files as they are now, read
// afresh when they changed since the last call.
func (w *Watch) Machine() (*Machine, error) {
	now, err := w.stamps()
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m != nil && now == w.stamp {
		return w.m, nil
	}
	m, err := ReadMachine(w.p, w.etc)
	if err != nil {
		return nil, err
	}
	w.m, w.stamp = m, now
	return m, nil
}

func (w *Watch) stamps() ([3]stamp, error) {
	var out [3]stamp
	for i, name := range []string{"passwd", "group", ManagedGroupsFile} {
		var st syscall.Stat_t
		err := syscall.Stat(filepath.Join(w.etc, name), &st)
		switch {
		case errors.Is(err, fs.ErrNotExist) && name == ManagedGroupsFile:
			out[i].missing = true
		case err != nil:
			return out, &os.PathError{Op: "stat", Path: filepath.Join(w.etc, name), Err: err}
		default:
			out[i] = stamp{ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim}
		}
	}
	return out, nil
}

// UsersOf lists the accounts that have uid.
func (m *Machine) UsersOf(uid uint32) []string {
	m.ids()
	return append([]string(nil), m.byUID[uid]...)
}
