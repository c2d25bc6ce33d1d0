package osutil

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// OpenDirNoFollow opens an absolute directory path one element at a time
// with O_NOFOLLOW, so no element of it can be a symlink: a user who swaps
// ~/.ssh for a link to /etc cannot make a root plugin write there. The
// caller closes the returned descriptor.
func OpenDirNoFollow(path string) (int, error) {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return -1, sdkerr.Invalid("path", "%q must be absolute and clean", path)
	}
	fd, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, sdkerr.Wrap(err, sdkerr.Internal, "open /")
	}
	for _, elem := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if elem == "" {
			continue
		}
		next, err := unix.Openat(fd, elem, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return -1, pathError(path, err)
		}
		fd = next
	}
	return fd, nil
}

func pathError(path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return sdkerr.Wrap(err, sdkerr.NotFound, "%s does not exist", path)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s is a symlink or not a directory; refusing to follow it", path)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return sdkerr.Wrap(err, sdkerr.PermissionDenied, "%s: permission denied", path)
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "%s: %v", path, err)
}

// WriteFileAtomic replaces path with data owned by uid:gid with mode: a
// temporary file in the same directory is written, fsynced, chowned and
// chmodded, then renamed over the target, and the directory is fsynced. No
// element of the path is followed through a symlink, and an existing
// symlink at path is replaced, not written through.
//
// With sync false both fsyncs are skipped, for a caller that will
// SyncPaths the file and then its directory before relying on them
// (volumes.DeferSync). Readers still see the old file or the new one,
// never a part; only a crash before that SyncPaths may lose the file or
// leave it empty.
func WriteFileAtomic(path string, data []byte, uid, gid int, mode os.FileMode, sync bool) error {
	dirfd, err := OpenDirNoFollow(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(path)
	tmp := "." + base + ".tmp-" + randomHex(6)
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return pathError(filepath.Join(filepath.Dir(path), tmp), err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	ok := false
	defer func() {
		if !ok {
			f.Close()
			unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "write %s", path)
	}
	if err := f.Chown(uid, gid); err != nil {
		return pathError(path, err)
	}
	if err := f.Chmod(mode.Perm()); err != nil {
		return pathError(path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s", path)
		}
	}
	if err := f.Close(); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "close %s", path)
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, base); err != nil {
		return pathError(path, err)
	}
	ok = true
	if !sync {
		return nil
	}
	if err := unix.Fsync(dirfd); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s", filepath.Dir(path))
	}
	return nil
}

// EnsureDir makes path a directory owned by uid:gid with mode, creating the
// last element if needed (the parent must exist) and repairing owner and
// mode of an existing one. A symlink anywhere on the path is refused.
func EnsureDir(path string, uid, gid int, mode os.FileMode) error {
	parent, err := OpenDirNoFollow(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	base := filepath.Base(path)
	if err := unix.Mkdirat(parent, base, uint32(mode.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
		return pathError(path, err)
	}
	fd, err := unix.Openat(parent, base, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return pathError(path, err)
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return pathError(path, err)
	}
	if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
		return pathError(path, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
