package fsutil

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// WriteFileAtomic is WriteFileBeneath with the root "/".
func WriteFileAtomic(path string, data []byte, uid, gid int, mode os.FileMode, sync bool) error {
	return WriteFileBeneath("/", path, data, uid, gid, mode, sync)
}

// WriteFileBeneath replaces path, beneath root, with data owned by uid:gid
// with mode's permission bits (never setuid, setgid or sticky): a
// temporary file in the same directory is written, fsynced, chowned and
// chmodded through its descriptor, then renamed over the target, and the
// directory is fsynced. No element of the path is followed through a
// symlink, and whatever sits at path (a symlink, a FIFO, a hard link to
// another file) is replaced, never written through.
//
// With sync false both fsyncs are skipped, for a caller that will
// SyncPaths the file and then its directory before relying on them
// (volumes.DeferSync). Readers still see the old file or the new one,
// never a part; only a crash before that SyncPaths may lose the file or
// leave it empty.
func WriteFileBeneath(root, path string, data []byte, uid, gid int, mode os.FileMode, sync bool) error {
	dirfd, err := OpenDirBeneath(root, filepath.Dir(path))
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
	// chown before chmod: a chown clears the setuid and setgid bits.
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

// EnsureDir is EnsureDirBeneath with the root "/".
func EnsureDir(path string, uid, gid int, mode os.FileMode) error {
	return EnsureDirBeneath("/", path, uid, gid, mode)
}

// EnsureDirBeneath makes path, beneath root, a directory owned by uid:gid
// with mode (permission bits, setgid and sticky; never setuid), creating
// the last element if needed (the parent must exist) and repairing owner
// and mode of an existing one through its descriptor. A symlink anywhere
// on the path, or anything but a directory at it, is refused.
func EnsureDirBeneath(root, path string, uid, gid int, mode os.FileMode) error {
	parent, err := OpenDirBeneath(root, filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	base := filepath.Base(path)
	bits := dirBits(mode)
	if err := unix.Mkdirat(parent, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
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
	if err := unix.Fchmod(fd, bits); err != nil {
		return pathError(path, err)
	}
	return nil
}

// dirBits is the mode a directory gets: permission bits, setgid (new
// entries take the directory's group) and sticky; setuid never.
func dirBits(mode os.FileMode) uint32 {
	bits := uint32(mode.Perm())
	if mode&os.ModeSetgid != 0 {
		bits |= unix.S_ISGID
	}
	if mode&os.ModeSticky != 0 {
		bits |= unix.S_ISVTX
	}
	return bits
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
