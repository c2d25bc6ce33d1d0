package fsutil

import (
	"errors"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// resolveBeneath is how every path below a root is resolved: never above
// the root, never through a symlink, never through a /proc magic link.
const resolveBeneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// noOpenat2 is set once the kernel answered openat2 with ENOSYS (before
// 5.6, or a seccomp filter that hides it); the walk then stands in.
var noOpenat2 atomic.Bool

// Rel returns path relative to root ("." for root itself), or false when
// path is not root or beneath it. Both must be absolute and clean; nothing
// is resolved on disk.
func Rel(root, path string) (string, bool) {
	switch {
	case path == root:
		return ".", true
	case root == "/":
		return path[1:], strings.HasPrefix(path, "/") && len(path) > 1
	case strings.HasPrefix(path, root+"/"):
		return path[len(root)+1:], true
	}
	return "", false
}

// OpenBeneath opens path, which must be root or lie beneath it, with
// flags (O_CLOEXEC and O_NOFOLLOW are always added) and mode. The root
// itself is opened as the policy names it; every element after it is
// resolved without following a symlink or leaving the root. A symlink on
// the way or at path is FailedPrecondition, a missing element NotFound.
// The caller closes the descriptor.
func OpenBeneath(root, path string, flags int, mode uint32) (int, error) {
	if err := check.AbsPath("path", path); err != nil && path != "/" {
		return -1, err
	}
	rel, ok := Rel(root, path)
	if !ok {
		return -1, sdkerr.Errorf(sdkerr.PermissionDenied, "%s is not beneath %s", path, root)
	}
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, pathError(root, err)
	}
	defer unix.Close(rootfd)
	fd, err := openAt(rootfd, rel, flags, mode)
	if err != nil {
		return -1, pathError(path, err)
	}
	return fd, nil
}

// OpenDirBeneath opens the directory path beneath root for reading.
func OpenDirBeneath(root, path string) (int, error) {
	return OpenBeneath(root, path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
}

// OpenDirNoFollow opens the absolute directory path with no element of it
// followed through a symlink: a user who swaps ~/.ssh for a link to /etc
// cannot make a root plugin write there. The caller closes it.
func OpenDirNoFollow(path string) (int, error) {
	return OpenDirBeneath("/", path)
}

// openAt opens rel (relative, clean, or ".") beneath dirfd.
func openAt(dirfd int, rel string, flags int, mode uint32) (int, error) {
	flags |= unix.O_CLOEXEC | unix.O_NOFOLLOW
	if flags&(unix.O_CREAT|unix.O_TMPFILE) == 0 {
		mode = 0 // openat2 refuses a mode it would not use
	}
	if !noOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags), Mode: uint64(mode), Resolve: resolveBeneath}
		fd, err := unix.Openat2(dirfd, rel, &how)
		for try := 0; try < 8 && (errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN)); try++ {
			fd, err = unix.Openat2(dirfd, rel, &how) // a rename elsewhere raced the lookup
		}
		if !errors.Is(err, unix.ENOSYS) {
			return fd, err
		}
		noOpenat2.Store(true)
	}
	return walkAt(dirfd, rel, flags, mode)
}

// walkAt is openat2's stand-in: each directory on the way is opened with
// O_PATH|O_DIRECTORY|O_NOFOLLOW relative to the one before, so no element
// is followed through a symlink, and ".." never occurs in a clean
// relative path, so the walk cannot leave dirfd.
func walkAt(dirfd int, rel string, flags int, mode uint32) (int, error) {
	if rel == "." {
		return unix.Openat(dirfd, ".", flags, mode)
	}
	elems := strings.Split(rel, "/")
	fd := dirfd
	for _, elem := range elems[:len(elems)-1] {
		if elem == "" || elem == "." || elem == ".." {
			closeUnless(fd, dirfd)
			return -1, unix.EXDEV
		}
		next, err := unix.Openat(fd, elem, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		closeUnless(fd, dirfd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	last := elems[len(elems)-1]
	if last == ".." {
		closeUnless(fd, dirfd)
		return -1, unix.EXDEV
	}
	out, err := unix.Openat(fd, last, flags, mode)
	closeUnless(fd, dirfd)
	return out, err
}

func closeUnless(fd, keep int) {
	if fd != keep {
		unix.Close(fd)
	}
}

// pathError maps a syscall error on path to the sdk's codes.
func pathError(path string, err error) error {
	var e *sdkerr.Error
	if errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, unix.ENOENT):
		return sdkerr.Wrap(err, sdkerr.NotFound, "%s does not exist", path)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EXDEV):
		return sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s is a symlink or not a directory; refusing to follow it", path)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return sdkerr.Wrap(err, sdkerr.PermissionDenied, "%s: permission denied", path)
	case errors.Is(err, unix.EROFS):
		return sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s is on a read-only filesystem", path)
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "%s: %v", path, err)
}

// IsNotFound reports whether err says a path does not exist.
func IsNotFound(err error) bool {
	return sdkerr.Is(err, sdkerr.NotFound) || errors.Is(err, unix.ENOENT)
}

// IsMountRoot reports whether name in dirfd is where something is
// mounted: statx's STATX_ATTR_MOUNT_ROOT says so (bind mounts included)
// on kernels that know it (5.8+); on older ones a device that differs from
// the parent's is taken for a mount. A walk that must stay on one tree
// (a removal, a recursive grant) does not enter one.
func IsMountRoot(dirfd int, name string) (bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &stx); err != nil {
		return false, err
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
	}
	var parent unix.Stat_t
	if err := unix.Fstat(dirfd, &parent); err != nil {
		return false, err
	}
	return unix.Mkdev(stx.Dev_major, stx.Dev_minor) != parent.Dev, nil
}
