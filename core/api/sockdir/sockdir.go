// Package sockdir opens an instance's socket directory, and the files in
// it (host.pid, rpc.sock), without ever following a link an attacker may
// have planted. PATH_SOCKET may name a directory other users can write
// (/tmp, say); if a path were followed there, a planted host.pid link
// would have the host truncate a file of its choosing, and a planted
// directory link would have it chmod that directory 0755.
//
// So the directory is opened once, with O_NOFOLLOW, and everything else
// goes through that descriptor: files are opened with openat and
// O_NOFOLLOW (new ones with O_EXCL), modes and owners are changed through
// descriptors, never a path. A socket dir that exists but is a link, or is
// another user's, is refused; so is a base directory that others may
// write without the sticky bit (there they could swap the socket dir
// itself). Under a sticky base like /tmp nobody else can rename or remove
// the caller's entry, so that is safe.
package sockdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Mode is the socket dir's mode: world-readable so a client can find the
// socket, writable by its owner alone.
const Mode fs.FileMode = 0o755

// Dir is an opened socket directory.
type Dir struct {
	f    *os.File
	path string
}

// Open makes the socket dir at path if it is missing (and its base), opens
// it and checks it for the calling user, and sets its mode to Mode
// through the descriptor. The base and every directory above it must be
// root's or the caller's, and writable by others only with the sticky bit.
func Open(path string) (*Dir, error) {
	path, err := clean(path)
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	if err := os.MkdirAll(base, Mode); err != nil {
		return nil, fmt.Errorf("socket dir %s: create its base: %w", path, err)
	}
	bf, err := openDir(base, false)
	if err != nil {
		return nil, fmt.Errorf("socket dir %s: %w", path, err)
	}
	defer bf.Close()
	if err := checkChain(bf); err != nil {
		return nil, fmt.Errorf("socket dir %s: %w", path, err)
	}
	name := filepath.Base(path)
	if err := syscall.Mkdirat(int(bf.Fd()), name, uint32(Mode)); err != nil && !errors.Is(err, syscall.EEXIST) {
		return nil, fmt.Errorf("socket dir %s: %w", path, err)
	}
	f, err := openAt(bf, name, path)
	if err != nil {
		return nil, err
	}
	d := &Dir{f: f, path: path}
	if err := d.checkOwn(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Chmod(Mode); err != nil {
		f.Close()
		return nil, fmt.Errorf("socket dir %s: chmod: %w", path, err)
	}
	return d, nil
}

// OpenExisting opens the socket dir at path to read it (status, stop): it
// creates and changes nothing, and refuses a link. A dir that does not
// exist is fs.ErrNotExist.
func OpenExisting(path string) (*Dir, error) {
	path, err := clean(path)
	if err != nil {
		return nil, err
	}
	bf, err := openDir(filepath.Dir(path), false)
	if err != nil {
		return nil, err
	}
	defer bf.Close()
	f, err := openAt(bf, filepath.Base(path), path)
	if err != nil {
		return nil, err
	}
	return &Dir{f: f, path: path}, nil
}

func clean(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("socket dir %q is not an absolute path", path)
	}
	path = filepath.Clean(path)
	if path == "/" {
		return "", errors.New(`socket dir "/" is not a directory of its own`)
	}
	return path, nil
}

// openDir opens a directory, following links only when told.
func openDir(path string, follow bool) (*os.File, error) {
	flags := syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	fd, err := syscall.Open(path, flags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openAt opens directory name in parent without following a link.
func openAt(parent *os.File, name, path string) (*os.File, error) {
	fd, err := syscall.Openat(int(parent.Fd()), name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("socket dir %s is a symbolic link; refusing to follow it (remove it, or choose another PATH_SOCKET)", path)
	case errors.Is(err, syscall.ENOTDIR):
		return nil, fmt.Errorf("socket dir %s exists and is not a directory (or is a symbolic link); refusing it", path)
	case err != nil:
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// checkOwn refuses a socket dir the caller does not own.
func (d *Dir) checkOwn() error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(d.f.Fd()), &st); err != nil {
		return fmt.Errorf("socket dir %s: %w", d.path, err)
	}
	if me := os.Geteuid(); int(st.Uid) != me {
		return fmt.Errorf("socket dir %s belongs to uid %d, not to you (uid %d); refusing to use it (remove it, or choose another PATH_SOCKET)", d.path, st.Uid, me)
	}
	return nil
}

// checkChain checks the socket dir's base and every directory above it:
// each must be root's or the caller's, and writable by no one else unless
// it has the sticky bit. Otherwise someone else could rename the socket
// dir (or a directory above it) away and put their own in its place.
func checkChain(base *os.File) error {
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(base.Fd())))
	if err != nil {
		real = base.Name()
	}
	me := uint32(os.Geteuid())
	return eachUp(real, func(dir string, st *syscall.Stat_t) error {
		switch {
		case st.Uid != 0 && st.Uid != me:
			return fmt.Errorf("%s belongs to uid %d: it could replace what the host keeps beneath it; choose a PATH_SOCKET under directories only root or you own", dir, st.Uid)
		case st.Mode&0o022 != 0 && st.Mode&syscall.S_ISVTX == 0:
			return fmt.Errorf("%s is writable by other users (mode %04o) without the sticky bit: any of them could replace the socket dir; choose a PATH_SOCKET only you can write, or one under a sticky directory like /tmp", dir, st.Mode&0o7777)
		}
		return nil
	})
}

// eachUp runs check on dir and every directory above it, up to /, each
// as lstat(2) finds it, and stops at the first error.
func eachUp(dir string, check func(string, *syscall.Stat_t) error) error {
	for ; ; dir = filepath.Dir(dir) {
		var st syscall.Stat_t
		if err := syscall.Lstat(dir, &st); err != nil {
			return fmt.Errorf("check %s: %w", dir, err)
		}
		if err := check(dir, &st); err != nil {
			return err
		}
		if dir == "/" {
			return nil
		}
	}
}

// Path is the socket dir's path.
func (d *Dir) Path() string { return d.path }

// Fd is the opened directory's descriptor, valid until Close.
func (d *Dir) Fd() int { return int(d.f.Fd()) }

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

// Join is the path of name in the dir, for messages and for what only
// takes a path (bind(2)); the dir is checked, so no one else can have put
// a link there.
func (d *Dir) Join(name string) string { return filepath.Join(d.path, name) }

// OnlyWritableBy checks, for a client about to talk to the process on a
// socket in dir, that dir and every directory above it are root's or
// uid's and writable by no one else, sticky bit or not: then the socket
// was put there by root or by uid, and not by another user who created
// the directory first (as anyone can under /tmp). The path's links are
// resolved first: what is checked is where the socket really is.
func OnlyWritableBy(dir string, uid uint32) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("%s cannot be checked: %w", dir, err)
	}
	return eachUp(real, func(d string, st *syscall.Stat_t) error {
		switch {
		case st.Uid != 0 && st.Uid != uid:
			return fmt.Errorf("%s belongs to uid %d", d, st.Uid)
		case st.Mode&0o022 != 0:
			return fmt.Errorf("%s is writable by other users (mode %04o)", d, st.Mode&0o7777)
		}
		return nil
	})
}
