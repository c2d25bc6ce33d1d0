// Package aclfs is what the two acl plugins (posixacl and mode) share: a
// file or directory held by an O_PATH descriptor opened beneath a root of
// the plugin's fence without following any symlink on its path, a walk
// below it that never follows one nor enters a mount point,
// ownership changes through that descriptor, the mode-bit view of an ACL,
// and the Guard that keeps home directories, ~/.ssh and authorized_keys
// writable by their owner only, so sshd's StrictModes still accepts keys.
package aclfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Node is a regular file or a directory held by an O_PATH descriptor. Every
// later operation goes through the descriptor (or its /proc/self/fd magic
// link, which names exactly that inode), so a path element swapped for a
// symlink after Open changes nothing.
type Node struct {
	Path string
	Stat unix.Stat_t
	fd   int
}

// Open opens path, which must lie strictly beneath a root of the fence
// (else PermissionDenied): its parent is resolved beneath the root
// without following a symlink, and the last element opened with
// O_PATH|O_NOFOLLOW. A symlink anywhere, or a last element that is
// neither a regular file nor a directory (a device, a FIFO), is refused
// with FailedPrecondition; a missing path is NotFound.
func (g Guard) Open(path string) (*Node, error) {
	dirfd, base, err := g.Fence.OpenParent(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	return openAt(dirfd, path, base)
}

func openAt(dirfd int, path, name string) (*Node, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, PathError(path, err)
	}
	n := &Node{Path: path, fd: fd}
	if err := unix.Fstat(fd, &n.Stat); err != nil {
		n.Close()
		return nil, PathError(path, err)
	}
	switch n.Stat.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return n, nil
	case unix.S_IFLNK:
		n.Close()
		return nil, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is a symlink; refusing to follow it", path)
	default:
		n.Close()
		return nil, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is neither a regular file nor a directory", path)
	}
}

// Close releases the descriptor.
func (n *Node) Close() error { return unix.Close(n.fd) }

// IsDir reports whether the node is a directory.
func (n *Node) IsDir() bool { return n.Stat.Mode&unix.S_IFMT == unix.S_IFDIR }

// Mode is the node's permission bits with setuid, setgid and sticky.
func (n *Node) Mode() uint32 { return n.Stat.Mode & 0o7777 }

// ProcPath is the node's /proc/self/fd magic link: the path-taking
// syscalls that have no descriptor form for an O_PATH descriptor
// (getxattr, setxattr, chmod) reach exactly this inode through it.
func (n *Node) ProcPath() string { return fmt.Sprintf("/proc/self/fd/%d", n.fd) }

// Refresh re-reads the node's stat after a change.
func (n *Node) Refresh() error {
	if err := unix.Fstat(n.fd, &n.Stat); err != nil {
		return PathError(n.Path, err)
	}
	return nil
}

// Chmod sets the permission bits (with setuid, setgid and sticky).
func (n *Node) Chmod(mode uint32) error {
	if err := unix.Chmod(n.ProcPath(), mode&0o7777); err != nil {
		return PathError(n.Path, err)
	}
	return n.Refresh()
}

// Chown sets owner and group on the inode itself (AT_EMPTY_PATH on the
// O_PATH descriptor).
func (n *Node) Chown(uid, gid uint32) error {
	if err := unix.Fchownat(n.fd, "", int(uid), int(gid), unix.AT_EMPTY_PATH); err != nil {
		return PathError(n.Path, err)
	}
	return n.Refresh()
}

// PathError maps a syscall error on path to the sdk's codes.
func PathError(path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return sdkerr.Wrap(err, sdkerr.NotFound, "%s does not exist", path)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s: a symlink or not a directory on the path; refusing to follow it", path)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return sdkerr.Wrap(err, sdkerr.PermissionDenied, "%s: permission denied", path)
	case errors.Is(err, unix.EROFS):
		return sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s is on a read-only filesystem", path)
	case errors.Is(err, unix.EOPNOTSUPP):
		return sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s: the filesystem does not support POSIX ACLs", path)
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "%s: %v", path, err)
}
