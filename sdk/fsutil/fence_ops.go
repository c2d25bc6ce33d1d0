package fsutil

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The Fence's file methods check the path (and the owner, for what they
// create) and then act beneath the path's root with the functions above,
// so an implementation that uses them cannot reach outside the fence even
// when its caller's arguments were not checked.

// OpenDir opens the directory path, a root or beneath one, for reading.
func (f *Fence) OpenDir(path string) (int, error) {
	root, err := f.Path("path", path)
	if err != nil {
		return -1, err
	}
	return OpenDirBeneath(root, path)
}

// OpenParent opens the directory holding path, which must lie strictly
// beneath a root, and returns it with path's last element: for calls that
// make, remove or inspect that entry through the parent's descriptor.
func (f *Fence) OpenParent(path string) (int, string, error) {
	root, err := f.Below("path", path)
	if err != nil {
		return -1, "", err
	}
	fd, err := OpenDirBeneath(root, filepath.Dir(path))
	if err != nil {
		return -1, "", err
	}
	return fd, filepath.Base(path), nil
}

// OpenPath opens path itself, strictly beneath a root, as an O_PATH
// descriptor without following a symlink on the way (one at path is
// opened as the link itself): to look at what is there before acting on
// it.
func (f *Fence) OpenPath(path string) (int, error) {
	root, err := f.Below("path", path)
	if err != nil {
		return -1, err
	}
	return OpenBeneath(root, path, unix.O_PATH, 0)
}

// OpenBeneath opens path, a root or beneath one, with flags (see the
// package function).
func (f *Fence) OpenBeneath(path string, flags int, mode uint32) (int, error) {
	root, err := f.Path("path", path)
	if err != nil {
		return -1, err
	}
	return OpenBeneath(root, path, flags, mode)
}

// WriteFile replaces the regular file path with data owned by uid:gid
// with mode, after the path and the owner passed the fence (see
// WriteFileBeneath; sync false defers the fsyncs to a later Sync).
func (f *Fence) WriteFile(path string, data []byte, uid, gid, mode uint32, sync bool) error {
	root, err := f.Below("path", path)
	if err != nil {
		return err
	}
	if err := f.Owner(path, uid, gid, mode, false); err != nil {
		return err
	}
	return WriteFileBeneath(root, path, data, int(uid), int(gid), os.FileMode(mode&0o777), sync)
}

// EnsureDir makes or repairs the directory path with owner uid:gid and
// mode's permission bits (setgid and sticky are not applied), after the
// path and the owner passed the fence.
func (f *Fence) EnsureDir(path string, uid, gid, mode uint32) error {
	root, err := f.Below("path", path)
	if err != nil {
		return err
	}
	if err := f.Owner(path, uid, gid, mode, true); err != nil {
		return err
	}
	return EnsureDirBeneath(root, path, int(uid), int(gid), os.FileMode(mode&0o777))
}

// ReadFile reads the regular file path beneath a root without following
// a link (see ReadFileBeneath).
func (f *Fence) ReadFile(path string, max int64) ([]byte, unix.Stat_t, error) {
	root, err := f.Below("path", path)
	if err != nil {
		return nil, unix.Stat_t{}, err
	}
	return ReadFileBeneath(root, path, max)
}

// Sync fsyncs each path, every one a root or beneath one (see
// SyncBeneath); a path outside refuses the whole call before anything is
// synced.
func (f *Fence) Sync(paths []string) error {
	return SyncBeneath(func(p string) (string, error) { return f.Path("paths", p) }, paths)
}
