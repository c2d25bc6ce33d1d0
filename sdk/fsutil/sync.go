package fsutil

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// SyncPaths is SyncBeneath with the root "/" for every path.
func SyncPaths(paths []string) error {
	return SyncBeneath(func(string) (string, error) { return "/", nil }, paths)
}

// SyncBeneath fsyncs each path in order, each beneath the root rootOf
// gives it: a regular file's data and metadata, a directory's entries.
// The caller lists files before the directories that hold them. No
// element is followed through a symlink: one on the way is
// FailedPrecondition, one at the path itself is InvalidArgument like any
// path that is neither a regular file nor a directory; a missing path is
// NotFound. Every path is opened, and so checked, once, before any is
// synced: a bad one is the error and nothing is synced. The caller bounds
// the list (volumes.MaxSyncPaths), and with it the descriptors held open.
//
// Before the first fsync it starts the writeback of every listed file's
// data, so that one fsync's commit finds them all written. On btrfs the
// first fsync in a subvolume made in the running transaction commits the
// whole transaction; with the files' data already on its way that commit
// covers them all, and their own fsyncs find nothing left to log
// (measured: 1.8 ms instead of 4.8 ms for a new home's four files and
// seven directories). Each path is still fsynced, so the guarantee does
// not rest on the hint.
func SyncBeneath(rootOf func(path string) (string, error), paths []string) error {
	fds := make([]int, 0, len(paths))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	files := make([]bool, 0, len(paths))
	for _, p := range paths {
		if err := check.AbsPath("paths", p); err != nil {
			return err
		}
		root, err := rootOf(p)
		if err != nil {
			return err
		}
		fd, isFile, err := openSyncable(root, p)
		if err != nil {
			return err
		}
		fds, files = append(fds, fd), append(files, isFile)
	}
	for i, fd := range fds {
		if files[i] {
			_ = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE) // a hint: the fsync below decides
		}
	}
	for i, fd := range fds {
		if err := unix.Fsync(fd); err != nil {
			return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s: %v", paths[i], err)
		}
	}
	return nil
}

// openSyncable opens path, a regular file or a directory beneath root,
// without following a symlink anywhere on it; isFile tells which.
func openSyncable(root, path string) (fd int, isFile bool, err error) {
	if path == root {
		fd, err := OpenDirBeneath(root, path)
		return fd, false, err
	}
	dirfd, err := OpenDirBeneath(root, filepath.Dir(path))
	if err != nil {
		return -1, false, err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(path)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, false, pathError(path, err)
	}
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		flags |= unix.O_DIRECTORY
	default:
		return -1, false, notFileNorDir(path)
	}
	// O_NONBLOCK: should a FIFO replace the file between the stat and the
	// open, opening it does not hang; the fstat below refuses it.
	fd, err = unix.Openat(dirfd, base, flags, 0)
	if errors.Is(err, unix.ELOOP) {
		return -1, false, notFileNorDir(path) // became a symlink since the stat
	} else if err != nil {
		return -1, false, pathError(path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, false, pathError(path, err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		unix.Close(fd)
		return -1, false, notFileNorDir(path)
	}
	return fd, st.Mode&unix.S_IFMT == unix.S_IFREG, nil
}

func notFileNorDir(path string) error {
	return sdkerr.Invalid("paths", "%s is neither a regular file nor a directory (a symlink is never followed)", path)
}
