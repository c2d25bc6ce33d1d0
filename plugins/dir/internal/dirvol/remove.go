package dirvol

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// DeleteVolume removes the directory tree at path. A missing path is
// success; a symlink or a file there is refused. The tree is first renamed
// to a hidden name beside it, so a half-removed home never sits under the
// user's name; a tree holding a mount point is refused before anything is
// removed and renamed back. What a create or delete of path killed midway
// left beside it goes too (sweepTemps).
func (v Volumes) DeleteVolume(_ context.Context, path string) error {
	if err := pathArg(path); err != nil {
		return err
	}
	dirfd, base, err := v.Fence.OpenParent(path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	if err := sweepTemps(dirfd, base, filepath.Dir(path)); err != nil {
		return err
	}
	fd, err := openEntry(dirfd, base, path)
	if err != nil || fd < 0 {
		return err
	}
	err = checkNoMounts(fd, path)
	unix.Close(fd)
	if err != nil {
		return err
	}
	doomed := tempName(base, "deleting")
	if err := unix.Renameat2(dirfd, base, dirfd, doomed, unix.RENAME_NOREPLACE); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return sysErr(err, "rename %s away for removal", path)
	}
	if err := removeTree(dirfd, doomed, filepath.Join(filepath.Dir(path), doomed)); err != nil {
		_ = unix.Renameat2(dirfd, doomed, dirfd, base, unix.RENAME_NOREPLACE)
		return err
	}
	return sysErr(unix.Fsync(dirfd), "fsync %s", filepath.Dir(path))
}

// sweepTemps removes the hidden trees a create or a delete of base killed
// midway left in dirfd (".<name>.creating-<random>",
// ".<name>.deleting-<random>": names only this plugin makes, in a
// directory only root writes), so a rolled-back create leaves nothing.
func sweepTemps(dirfd int, base, dir string) error {
	names, err := osutil.ReadDirNames(dirfd)
	if err != nil {
		return sysErr(err, "list %s", dir)
	}
	for _, name := range names {
		if !strings.HasPrefix(name, "."+base+".creating-") && !strings.HasPrefix(name, "."+base+".deleting-") {
			continue
		}
		fd, err := openEntry(dirfd, name, filepath.Join(dir, name))
		if err != nil || fd < 0 {
			return err
		}
		err = checkNoMounts(fd, filepath.Join(dir, name))
		unix.Close(fd)
		if err == nil {
			err = removeTree(dirfd, name, filepath.Join(dir, name))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// isMountRoot is fsutil.IsMountRoot.
var isMountRoot = fsutil.IsMountRoot

// checkNoMounts walks the tree below fd and refuses it when any directory
// in it is a mount point: rm -rf would empty the mounted filesystem.
func checkNoMounts(fd int, full string) error {
	names, err := osutil.ReadDirNames(fd)
	if err != nil {
		return err
	}
	for _, name := range names {
		sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOENT) {
			continue // a file, a symlink, or gone
		} else if err != nil {
			return sysErr(err, "open %s/%s", full, name)
		}
		mnt, err := isMountRoot(fd, name)
		if err == nil && mnt {
			err = sdkerr.Errorf(sdkerr.FailedPrecondition, "%s/%s is a mount point; unmount it before deleting the volume", full, name)
		}
		if err == nil {
			err = checkNoMounts(sub, full+"/"+name)
		}
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}

// removeTree removes name in dirfd and everything below it, through
// directory descriptors opened with O_NOFOLLOW: a symlink is unlinked,
// never followed, and a mount point met on the way stops the removal.
func removeTree(dirfd int, name, full string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return sysErr(err, "open %s", full)
	}
	if mnt, err := isMountRoot(dirfd, name); err != nil || mnt {
		unix.Close(fd)
		return firstErr(sysErr(err, "statx %s", full),
			sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is a mount point; refusing to remove it", full))
	}
	// A user's process may still create files while we remove: go round
	// a few times before giving up on a directory that will not empty.
	for range 5 {
		if err = removeEntries(fd, full); err != nil {
			break
		}
		err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
		if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	unix.Close(fd)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return sysErr(err, "remove %s", full)
}

func removeEntries(fd int, full string) error {
	names, err := osutil.ReadDirNames(fd)
	if err != nil {
		return err
	}
	for _, name := range names {
		err := unix.Unlinkat(fd, name, 0)
		if errors.Is(err, unix.EISDIR) {
			err = removeTree(fd, name, full+"/"+name)
		}
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return sysErr(err, "remove %s/%s", full, name)
		}
	}
	return nil
}

// openEntry opens the directory name in dirfd; -1 and no error when it
// does not exist. A symlink or a non-directory there is refused.
func openEntry(dirfd int, name, full string) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, nil
		}
		return -1, sysErr(err, "stat %s", full)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
	case unix.S_IFLNK:
		return -1, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is a symlink; refusing to follow it", full)
	default:
		return -1, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s exists and is not a directory", full)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, nil
	}
	return fd, sysErr(err, "open %s", full)
}

// sysErr types a system call's error; nil stays nil.
func sysErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var e *sdkerr.Error
	if errors.As(err, &e) {
		return err
	}
	code := sdkerr.Internal
	switch {
	case errors.Is(err, unix.ENOENT):
		code = sdkerr.NotFound
	case errors.Is(err, unix.EEXIST):
		code = sdkerr.AlreadyExists
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		code = sdkerr.PermissionDenied
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EROFS),
		errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EBUSY), errors.Is(err, unix.EXDEV):
		code = sdkerr.FailedPrecondition
	}
	return sdkerr.Wrap(err, code, "%s: %v", fmt.Sprintf(format, args...), err)
}
