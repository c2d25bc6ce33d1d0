package fsutil

import (
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// ReadFileNoFollow is ReadFileBeneath with the root "/".
func ReadFileNoFollow(path string, max int64) ([]byte, unix.Stat_t, error) {
	return ReadFileBeneath("/", path, max)
}

// ReadFileBeneath reads a regular file beneath root that a user may
// control (an authorized_keys, a private key) without ever following a
// symlink on its path, and returns its content and stat. A missing file
// is NotFound. It refuses, with FailedPrecondition, a symlink, anything
// but a regular file (a FIFO is opened non-blocking and refused, never
// read), a file with more than one hard link (a user's hard link to
// /etc/shadow must not be read and then rewritten as the user's own
// file), and a file larger than max bytes.
func ReadFileBeneath(root, path string, max int64) ([]byte, unix.Stat_t, error) {
	var st unix.Stat_t
	dirfd, err := OpenDirBeneath(root, filepath.Dir(path))
	if err != nil {
		return nil, st, err
	}
	defer unix.Close(dirfd)
	fd, err := unix.Openat(dirfd, filepath.Base(path), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, st, pathError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, st, pathError(path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, st, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a regular file; refusing to read it", path)
	case st.Nlink > 1:
		return nil, st, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s has %d hard links; refusing to read it", path, st.Nlink)
	case st.Size > max:
		return nil, st, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is larger than %d bytes", path, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, st, sdkerr.Wrap(err, sdkerr.Internal, "read %s", path)
	}
	if int64(len(data)) > max {
		return nil, st, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is larger than %d bytes", path, max)
	}
	return data, st, nil
}
