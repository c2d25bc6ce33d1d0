package policy

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
)

// Cache keeps a Machine read from an etc dir and reads it again only when
// the files it was read from changed, so a plugin can judge every call by
// the account files as they are now (an account the accounts plugin made a
// moment ago is seen) for the price of three stat calls.
//
// A change is a different inode, size, modification or change time of
// passwd, group or the managed-groups record: the shadow tools and the
// files plugin replace the files by rename (a new inode), and an edit in
// place moves ctime.
type Cache struct {
	p     Policy
	files [3]string // passwd, group, the managed-groups record

	mu    sync.Mutex
	m     *Machine
	stamp [3]fileStamp
}

type fileStamp struct {
	ok           bool
	dev, ino     uint64
	size         int64
	mtime, ctime syscall.Timespec
}

// NewCache returns a Cache of etcDir's account files under p. Nothing is
// read until the first Machine.
func NewCache(p Policy, etcDir string) *Cache {
	c := &Cache{p: p}
	for i, name := range []string{"passwd", "group", ManagedGroupsFile} {
		c.files[i] = filepath.Join(etcDir, name)
	}
	return c
}

// Policy is the policy the cache judges by.
func (c *Cache) Policy() Policy { return c.p }

// Machine returns the machine as the account files say now: the cached
// view when none of them changed since it was read, else a fresh
// ReadMachine. An error (passwd or group unreadable) is not cached.
func (c *Cache) Machine() (*Machine, error) {
	now := c.stamps()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m != nil && now == c.stamp {
		return c.m, nil
	}
	m, err := ReadMachine(c.p, filepath.Dir(c.files[0]))
	if err != nil {
		return nil, err
	}
	// Stamps taken before the read: a change racing the read makes the
	// next call read again rather than keep a stale view.
	c.m, c.stamp = m, now
	return m, nil
}

func (c *Cache) stamps() [3]fileStamp {
	var out [3]fileStamp
	for i, path := range c.files {
		out[i] = stampOf(path)
	}
	return out
}

func stampOf(path string) fileStamp {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fileStamp{}
		}
		return fileStamp{ino: ^uint64(0)} // unreadable: never equal to a stamp taken when readable
	}
	return fileStamp{ok: true, dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
}
