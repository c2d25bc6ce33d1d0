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
//
// Before the first fsync it starts the writeback of every listed file's
// data, so that one fsync's commit finds them all written. On btrfs the
// first fsync in a subvolume made in the running transaction commits the
// whole transaction; with the files' data already on its way that commit
// covers them all, and their own fsyncs find nothing left to log
// (measured: 1.8 ms instead of 4.8 ms for a new home's four files and
// seven directories). Each path is still fsynced, so the guarantee does
// not rest on the hint.
func SyncPaths(paths []string) error {
	for _, p := range paths {
		startWriteback(p)
	}
	for _, p := range paths {
		if err := syncPath(p); err != nil {
			return err
		}
	}
	return nil
}

// startWriteback asks the kernel to start writing path's dirty data, if
// path is a regular file reached without a symlink; it is only a hint, so
// it says nothing of failures (syncPath reports them).
func startWriteback(path string) {
	fd, err := openSyncable(path)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		_ = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	}
}

func syncPath(path string) error {
	fd, err := openSyncable(path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s: %v", path, err)
	}
	return nil
}

// openSyncable opens path, a regular file or a directory, without
// following a symlink anywhere on it.
func openSyncable(path string) (int, error) {
	if err := check.AbsPath("paths", path); err != nil {
		return -1, err
	}
	dirfd, err := OpenDirNoFollow(filepath.Dir(path))
	if err != nil {
		return -1, err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(path)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, pathError(path, err)
	}
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		flags |= unix.O_DIRECTORY
	default:
		return -1, notFileNorDir(path)
	}
	// O_NONBLOCK: should a FIFO replace the file between the stat and the
	// open, opening it does not hang; the fstat below refuses it.
	fd, err := unix.Openat(dirfd, base, flags, 0)
	if errors.Is(err, unix.ELOOP) {
		return -1, notFileNorDir(path) // became a symlink since the stat
	} else if err != nil {
		return -1, pathError(path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, pathError(path, err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		unix.Close(fd)
		return -1, notFileNorDir(path)
	}
	return fd, nil
}

func notFileNorDir(path string) error {
	return sdkerr.Invalid("paths", "%s is neither a regular file nor a directory (a symlink is never followed)", path)
}
