package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Entry is what a snapshot records of one file or directory: type and
// mode, owner, size, the content of a small file, and its access ACL.
type Entry struct {
	Mode, UID, GID uint32
	Size           int64
	Data, ACL      string
}

// Kind names the entry's file type for a report.
func (e Entry) Kind() string {
	switch e.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFREG:
		return "file"
	case unix.S_IFLNK:
		return "symlink"
	}
	return "special file"
}

// Snapshot maps a path to its entry.
type Snapshot map[string]Entry

// SnapshotDir records every entry below dir (not following links), keyed
// by its path with dir replaced by as (as == dir keeps the paths): a
// layer of the sandbox's /etc is recorded under /etc. A missing dir is an
// empty snapshot.
func SnapshotDir(dir, as string) (Snapshot, error) {
	out := Snapshot{}
	err := addTree(out, dir, as)
	return out, err
}

// Add records the tree at dir into s, keyed as SnapshotDir does.
func (s Snapshot) Add(dir, as string) error { return addTree(s, dir, as) }

func addTree(out Snapshot, dir, as string) error {
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone while walking, or no tree at all
			}
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			return err
		}
		e := Entry{Mode: st.Mode, UID: st.Uid, GID: st.Gid, Size: st.Size}
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size < 4096 {
			data, _ := os.ReadFile(p)
			e.Data = string(data)
		}
		buf := make([]byte, 512)
		if n, err := unix.Lgetxattr(p, "system.posix_acl_access", buf); err == nil {
			e.ACL = string(buf[:n])
		} else if !errors.Is(err, unix.ENODATA) && !errors.Is(err, unix.EOPNOTSUPP) {
			e.ACL = err.Error()
		}
		out[as+strings.TrimPrefix(p, dir)] = e
		return nil
	})
	return err
}

// Change is one difference between two snapshots.
type Change struct {
	Path  string
	What  string // "appeared", "changed" or "vanished"
	Entry Entry  // the entry after (before, for "vanished")
}

func (c Change) String() string { return c.Path + " " + c.What }

// Diff lists what differs from before to after, sorted by path.
func Diff(before, after Snapshot) []Change {
	var out []Change
	for p, a := range after {
		b, ok := before[p]
		switch {
		case !ok:
			out = append(out, Change{p, "appeared", a})
		case a != b:
			out = append(out, Change{p, "changed", a})
		}
	}
	for p, b := range before {
		if _, ok := after[p]; !ok {
			out = append(out, Change{p, "vanished", b})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })
	return out
}

// DiffText renders Diff for a report, "" when nothing changed.
func DiffText(before, after Snapshot) string {
	var parts []string
	for _, c := range Diff(before, after) {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ", ")
}

// describe names an entry for a report: "file owned by 0:0, mode 0644".
func (e Entry) describe() string {
	return fmt.Sprintf("%s owned by %d:%d, mode %04o", e.Kind(), e.UID, e.GID, e.Mode&0o7777)
}
