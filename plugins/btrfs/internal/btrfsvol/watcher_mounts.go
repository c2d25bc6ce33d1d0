package btrfsvol

import (
	"os"
	"path"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
)

// watchedFS is one btrfs filesystem the Watcher looks at, with what it
// learned: the subvolume links (refs), the links it has placed (seen),
// and the subvolume id up to which it has placed every one (maxID).
type watchedFS struct {
	point string // a mount point of it, for messages
	fd    int    // that mount point, opened
	// tops are the paths from the filesystem's top level that lie beneath
	// a home root ("" for all of it).
	tops                 []string
	maxID                uint64
	lastFull, lastRepair time.Time
	seen, refs           map[uint64]rootRef
	failed               map[uint64]bool // could not be placed; warned
}

// beneath reports whether a subvolume at p (from the top level) lies
// beneath a home root.
func (fs *watchedFS) beneath(p string) bool {
	if p == "" {
		return false
	}
	for _, t := range fs.tops {
		if t == "" || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

// pathOf is subvolume id's path from the top level, "" when it cannot be
// found (deleted meanwhile).
func (fs *watchedFS) pathOf(id uint64) string {
	for p, n := id, 0; p != topLevelID && n < 64; n++ {
		r, ok := fs.refs[p]
		if !ok {
			var err error
			if r, ok, err = backref(fs.fd, p); err != nil || !ok {
				return ""
			}
			fs.refs[p] = r
		}
		p = r.parent
	}
	p, err := subvolPath(fs.fd, id, fs.refs, map[uint64]string{topLevelID: ""}, 0)
	if err != nil {
		return ""
	}
	return p
}

// mountWatch tells when the mount table changed: the kernel flags
// /proc/self/mountinfo with POLLPRI after every mount and unmount.
type mountWatch struct{ f *os.File }

func (m *mountWatch) changed() bool {
	fds := []unix.PollFd{{Fd: int32(m.f.Fd()), Events: unix.POLLPRI}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n > 0
}

// refreshMounts (re)builds the watched filesystems when the mount table
// changed, keeping what was learned of a filesystem still watched.
func (w *Watcher) refreshMounts() error {
	if w.mounts == nil {
		f, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			return err
		}
		w.mounts = &mountWatch{f}
		w.mounts.changed() // consume the event of the table as it is now
	} else if w.fss != nil && !w.mounts.changed() {
		return nil
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	old := w.fss
	w.fss = map[[16]byte]*watchedFS{}
	for _, wm := range watchedMounts(parseMounts(string(data)), w.Roots) {
		w.add(wm, old)
	}
	for id, fs := range old {
		if w.fss[id] != fs {
			unix.Close(fs.fd)
		}
	}
	return nil
}

// add opens a watched mount and files it under its filesystem.
func (w *Watcher) add(wm watchedMount, old map[[16]byte]*watchedFS) {
	fd, err := fsutil.OpenDirNoFollow(wm.Point)
	if err != nil {
		w.warn("cannot open a btrfs mount below a home root", "mount", wm.Point, "error", err)
		return
	}
	var a fsInfoArgs
	if err := ioctl(fd, iocFSInfo, unsafe.Pointer(&a)); err != nil {
		unix.Close(fd)
		w.warn("cannot identify a btrfs mount below a home root", "mount", wm.Point, "error", err)
		return
	}
	fs, ok := w.fss[a.FSID]
	switch {
	case ok:
		unix.Close(fd) // another mount of a filesystem already watched
	case old[a.FSID] != nil:
		// Kept, but looked at in full next: a remount may reuse the ids
		// of subvolumes deleted before it.
		fs = old[a.FSID]
		unix.Close(fs.fd)
		fs.fd, fs.point, fs.tops, fs.lastFull = fd, wm.Point, nil, time.Time{}
	default:
		fs = &watchedFS{fd: fd, point: wm.Point, seen: map[uint64]rootRef{}, refs: map[uint64]rootRef{}, failed: map[uint64]bool{}}
	}
	fs.tops = append(fs.tops, wm.top)
	w.fss[a.FSID] = fs
}

func (w *Watcher) close() {
	for _, fs := range w.fss {
		unix.Close(fs.fd)
	}
	w.fss = nil
	if w.mounts != nil {
		w.mounts.f.Close()
		w.mounts = nil
	}
}

// watchedMount is a btrfs mount holding a home root or below one, and the
// path from its filesystem's top level that lies beneath the root.
type watchedMount struct {
	mount
	top string
}

// watchedMounts picks, for each home root, the btrfs mount holding it and
// every btrfs mount below it.
func watchedMounts(ms []mount, roots []string) []watchedMount {
	var out []watchedMount
	for _, r := range roots {
		var holder mount
		for _, m := range ms {
			if within(r, m.Point) && len(m.Point) >= len(holder.Point) {
				holder = m
			}
		}
		if holder.FSType == "btrfs" {
			rel := strings.TrimPrefix(r, strings.TrimSuffix(holder.Point, "/"))
			out = append(out, watchedMount{holder, topPath(path.Join(holder.Root, rel))})
		}
		for _, m := range ms {
			if m.FSType == "btrfs" && m.Point != r && within(m.Point, r) {
				out = append(out, watchedMount{m, topPath(m.Root)})
			}
		}
	}
	return out
}

// topPath turns mountinfo's root ("/@home") into a path from the top
// level as the subvolume links spell it ("@home"; "" for the top).
func topPath(root string) string { return strings.Trim(path.Clean("/"+root), "/") }

// parseMounts reads the lines of /proc/self/mountinfo.
func parseMounts(data string) []mount {
	var out []mount
	for _, line := range strings.Split(data, "\n") {
		if m, ok := parseMountinfo(line); ok {
			out = append(out, m)
		}
	}
	return out
}
