package osutil

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// SyncPaths fsyncs each path in order: a regular file's data and
// metadata, a directory's entries. The caller lists files before the
// directories that hold them. No element is followed through a symlink:
// one on the way is FailedPrecondition (OpenDirNoFollow), one at the path
// itself is InvalidArgument like any path that is neither a regular file
// nor a directory; a missing path is NotFound. It stops at the first
// error.
func SyncPaths(paths []string) error {
	for _, p := range paths {
		if err := syncPath(p); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(path string) error {
	if err := check.AbsPath("paths", path); err != nil {
		return err
	}
	dirfd, err := OpenDirNoFollow(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(path)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathError(path, err)
	}
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		flags |= unix.O_DIRECTORY
	default:
		return notFileNorDir(path)
	}
	// O_NONBLOCK: should a FIFO replace the file between the stat and the
	// open, opening it does not hang; the fstat below refuses it.
	fd, err := unix.Openat(dirfd, base, flags, 0)
	if errors.Is(err, unix.ELOOP) {
		return notFileNorDir(path) // became a symlink since the stat
	} else if err != nil {
		return pathError(path, err)
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &st); err != nil {
		return pathError(path, err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		return notFileNorDir(path)
	}
	if err := unix.Fsync(fd); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s: %v", path, err)
	}
	return nil
}

func notFileNorDir(path string) error {
	return sdkerr.Invalid("paths", "%s is neither a regular file nor a directory (a symlink is never followed)", path)
}
