package aclfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// readBatch bounds how many names a walk reads from a directory at once.
const readBatch = 256

// Walk calls fn on n and on every regular file and directory below it that
// enter admits (a directory it refuses is skipped with all it holds), depth
// first. Children are opened relative to their parent's descriptor with
// O_NOFOLLOW, so the walk never leaves the tree through a symlink:
// symlinks and special files below n are skipped, as is an entry removed
// while the walk runs, and a directory where something is mounted (a
// bind mount could bring any tree of the machine into a home).
func (n *Node) Walk(fn func(*Node) error, enter func(*Node) bool) error {
	if err := fn(n); err != nil {
		return err
	}
	if !n.IsDir() {
		return nil
	}
	dfd, err := unix.Openat(n.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return PathError(n.Path, err)
	}
	dir := os.NewFile(uintptr(dfd), n.Path)
	defer dir.Close()
	for {
		names, err := dir.Readdirnames(readBatch)
		for _, name := range names {
			if err := n.walkChild(name, fn, enter); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(names) == 0) {
			return nil
		}
		if err != nil {
			return sdkerr.Wrap(err, sdkerr.Internal, "read directory %s", n.Path)
		}
	}
}

func (n *Node) walkChild(name string, fn func(*Node) error, enter func(*Node) bool) error {
	child, err := openAt(n.fd, filepath.Join(n.Path, name), name)
	if sdkerr.Is(err, sdkerr.FailedPrecondition) || sdkerr.Is(err, sdkerr.NotFound) {
		return nil // a symlink, a device or FIFO, or gone: never followed
	}
	if err != nil {
		return err
	}
	defer child.Close()
	if !enter(child) {
		return nil
	}
	if child.IsDir() {
		if mnt, err := fsutil.IsMountRoot(n.fd, name); err != nil || mnt {
			return nil // never cross into another mount
		}
	}
	return child.Walk(fn, enter)
}
