package osutil

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// DiskUsage returns the bytes allocated to the tree below the open
// directory dirfd, as `du -sx` counts them: 512-byte blocks of every inode
// once (hard links are not counted twice), never through a symlink and
// never into another filesystem (a mount, a nested btrfs subvolume). It is
// how the volumes plugins report usage where no quota accounting exists.
func DiskUsage(dirfd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(dirfd, &st); err != nil {
		return 0, sdkerr.Wrap(err, sdkerr.Internal, "fstat: %v", err)
	}
	w := &duWalk{dev: st.Dev, seen: map[uint64]bool{st.Ino: true}, total: uint64(st.Blocks) * 512}
	if err := w.dir(dirfd); err != nil {
		return 0, err
	}
	return w.total, nil
}

type duWalk struct {
	dev   uint64
	seen  map[uint64]bool
	total uint64
}

func (w *duWalk) dir(fd int) error {
	names, err := ReadDirNames(fd)
	if err != nil {
		return err
	}
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // removed while we walked
			}
			return sdkerr.Wrap(err, sdkerr.Internal, "stat %s: %v", name, err)
		}
		if st.Dev != w.dev || w.seen[st.Ino] {
			continue
		}
		w.seen[st.Ino] = true
		w.total += uint64(st.Blocks) * 512
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return sdkerr.Wrap(err, sdkerr.Internal, "open %s: %v", name, err)
		}
		err = w.dir(sub)
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}

// ReadDirNames lists the directory open as fd (without closing fd or
// moving its offset: it reads through a fresh descriptor of the same
// directory).
func ReadDirNames(fd int) ([]string, error) {
	dup, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "reopen directory: %v", err)
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "read directory: %v", err)
	}
	return names, nil
}
