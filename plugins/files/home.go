package files

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// makeHome creates an empty home owned by the user with mode (HOME_MODE,
// or 0777 &^ UMASK), like useradd -m without a skeleton: hero writes what
// a home needs itself. An existing path is left exactly as it is, as
// useradd leaves it, so a directory that belongs to someone else is never
// handed to the new uid. The parent must exist.
func makeHome(home string, uid, gid uint32, mode os.FileMode) error {
	parent, err := fsutil.OpenDirNoFollow(filepath.Dir(home))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	base := filepath.Base(home)
	if err := unix.Mkdirat(parent, base, 0o700); errors.Is(err, unix.EEXIST) {
		return nil
	} else if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "mkdir %s: %v", home, err)
	}
	fd, err := unix.Openat(parent, base, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "open %s: %v", home, err)
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "chown %s: %v", home, err)
	}
	if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "chmod %s: %v", home, err)
	}
	return nil
}

// removeHome removes a deleted user's home as userdel -r does: only a real
// directory (not a symlink) owned by that uid. os.RemoveAll never follows
// a symlink inside it.
func removeHome(home string, uid uint32) error {
	var st unix.Stat_t
	if err := unix.Lstat(home, &st); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "stat %s: %v", home, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uid {
		return sdkerr.Errorf(sdkerr.FailedPrecondition,
			"%s is not a directory owned by uid %d; the account is deleted, the home is left", home, uid)
	}
	if err := os.RemoveAll(home); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "remove %s: %v", home, err)
	}
	return nil
}
