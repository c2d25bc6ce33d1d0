package sockdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// OpenFile opens name in the dir without following a link. With
// os.O_CREATE it first creates the file with O_EXCL; a file that already
// exists must then be a regular file of the caller's, so a planted file
// (or a hard link to someone else's) is refused rather than written.
func (d *Dir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := plainName(name); err != nil {
		return nil, err
	}
	base := flag | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	if flag&os.O_CREATE != 0 {
		fd, err := syscall.Openat(d.Fd(), name, base|syscall.O_EXCL, uint32(perm))
		if err == nil {
			return os.NewFile(uintptr(fd), d.Join(name)), nil
		}
		if !errors.Is(err, syscall.EEXIST) {
			return nil, d.pathError("create", name, err)
		}
		base &^= os.O_CREATE
	}
	fd, err := syscall.Openat(d.Fd(), name, base, 0)
	if err != nil {
		return nil, d.pathError("open", name, err)
	}
	f := os.NewFile(uintptr(fd), d.Join(name))
	if flag&os.O_CREATE != 0 {
		if err := ownRegular(f); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// ownRegular refuses an existing file that is not a regular file of the
// caller's with one link.
func ownRegular(f *os.File) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return fmt.Errorf("%s is not a regular file; refusing it", f.Name())
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to you; refusing it", f.Name(), st.Uid)
	case st.Nlink > 1:
		return fmt.Errorf("%s has %d links (a hard link to another file?); refusing it", f.Name(), st.Nlink)
	}
	return nil
}

func (d *Dir) pathError(op, name string, err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%s is a symbolic link; refusing to follow it", d.Join(name))
	}
	return &os.PathError{Op: op, Path: d.Join(name), Err: err}
}

func plainName(name string) error {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return fmt.Errorf("%q is not a plain file name", name)
		}
	}
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	return nil
}

// Lstat stats name in the dir without following a link.
func (d *Dir) Lstat(name string) (syscall.Stat_t, error) {
	var st syscall.Stat_t
	if err := plainName(name); err != nil {
		return st, err
	}
	fd, err := syscall.Openat(d.Fd(), name, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return st, &os.PathError{Op: "lstat", Path: d.Join(name), Err: err}
	}
	defer syscall.Close(fd)
	err = syscall.Fstat(fd, &st)
	return st, err
}

// Names reports whether name in the dir is the file f has open.
func (d *Dir) Names(name string, f *os.File) bool {
	st, err := d.Lstat(name)
	if err != nil {
		return false
	}
	var fst syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &fst); err != nil {
		return false
	}
	return st.Dev == fst.Dev && st.Ino == fst.Ino
}

// Remove unlinks name from the dir (a file, a socket or a link: never
// what a link points to).
func (d *Dir) Remove(name string) error {
	if err := plainName(name); err != nil {
		return err
	}
	if err := syscall.Unlinkat(d.Fd(), name); err != nil {
		return d.pathError("remove", name, err)
	}
	return nil
}

// Chmod sets the mode of name — a file or a socket, never through a link
// — through an O_PATH descriptor of it: fchmod does not take one, but the
// descriptor's /proc/self/fd entry leads to the inode itself.
func (d *Dir) Chmod(name string, mode fs.FileMode) error {
	return d.withPath(name, func(proc string) error { return os.Chmod(proc, mode) })
}

// Chown sets the owner and group of name (-1 leaves one as it is),
// without following a link.
func (d *Dir) Chown(name string, uid, gid int) error {
	if err := plainName(name); err != nil {
		return err
	}
	if err := syscall.Fchownat(d.Fd(), name, uid, gid, unixAtSymlinkNofollow); err != nil {
		return d.pathError("chown", name, err)
	}
	return nil
}

// withPath opens name with O_PATH|O_NOFOLLOW, refuses a link, and calls fn
// with the descriptor's /proc/self/fd path.
func (d *Dir) withPath(name string, fn func(proc string) error) error {
	if err := plainName(name); err != nil {
		return err
	}
	fd, err := syscall.Openat(d.Fd(), name, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return d.pathError("open", name, err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
		return fmt.Errorf("%s is a symbolic link; refusing to follow it", d.Join(name))
	}
	return fn("/proc/self/fd/" + strconv.Itoa(fd))
}

// Linux values the syscall package leaves out.
const (
	oPath                 = 0x200000 // O_PATH
	unixAtSymlinkNofollow = 0x100    // AT_SYMLINK_NOFOLLOW
)
