package btrfsvol

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// openEntry opens the directory name in dirfd; -1 and no error when it
// does not exist. A symlink or a non-directory there is refused.
func openEntry(dirfd int, name, full string) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, nil
		}
		return -1, fail(err, "stat %s", full)
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
	if err != nil {
		return -1, fail(err, "open %s", full)
	}
	return fd, nil
}

// openSubvol opens the existing subvolume at p: NotFound when p is
// missing, FailedPrecondition when it is not a subvolume.
func (v *Volumes) openSubvol(ctx context.Context, p string) (int, SubvolInfo, error) {
	fd, err := v.Fence.OpenDir(p)
	if err != nil {
		return -1, SubvolInfo{}, err
	}
	info, err := v.B.SubvolInfo(ctx, fd)
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, ErrNotSubvolume) {
			return -1, SubvolInfo{}, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a btrfs subvolume", p)
		}
		return -1, SubvolInfo{}, fail(err, "inspect %s", p)
	}
	return fd, info, nil
}

// openSubvolAt opens the existing subvolume name in dirfd (at the absolute
// path full), like openSubvol.
func (v *Volumes) openSubvolAt(ctx context.Context, dirfd int, name, full string) (int, SubvolInfo, error) {
	fd, err := openEntry(dirfd, name, full)
	if err != nil {
		return -1, SubvolInfo{}, err
	}
	if fd < 0 {
		return -1, SubvolInfo{}, sdkerr.Errorf(sdkerr.NotFound, "%s does not exist", full)
	}
	info, err := v.B.SubvolInfo(ctx, fd)
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, ErrNotSubvolume) {
			return -1, SubvolInfo{}, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a btrfs subvolume", full)
		}
		return -1, SubvolInfo{}, fail(err, "inspect %s", full)
	}
	return fd, info, nil
}

// lookupSubvol finds the subvolume name in dirfd for removal: ok false
// when nothing is there; FailedPrecondition for anything but a subvolume.
func (v *Volumes) lookupSubvol(ctx context.Context, dirfd int, name, full string) (SubvolInfo, bool, error) {
	fd, err := openEntry(dirfd, name, full)
	if err != nil || fd < 0 {
		return SubvolInfo{}, false, err
	}
	defer unix.Close(fd)
	info, err := v.B.SubvolInfo(ctx, fd)
	if errors.Is(err, ErrNotSubvolume) {
		return SubvolInfo{}, false, sdkerr.Errorf(sdkerr.FailedPrecondition,
			"%s is a plain directory, not a btrfs subvolume; refusing to delete it", full)
	} else if err != nil {
		return SubvolInfo{}, false, fail(err, "inspect %s", full)
	}
	if info.ID == topLevelID {
		return SubvolInfo{}, false, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is the filesystem's top-level subvolume", full)
	}
	return info, true, nil
}
