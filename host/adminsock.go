package host

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// unixSock is a Unix socket this host bound inside its socket dir, taken
// without following a link anywhere: the dir is opened with O_NOFOLLOW and
// must be ours and not writable by others, the socket is bound and its
// mode and group set through that descriptor (bind goes through
// /proc/self/fd/DIR, the chmod through an O_PATH descriptor of the socket
// itself), never through a path someone could swap. The same approach as
// the socket-dir hardening of issue 10 §7; admin.sock uses it.
type unixSock struct {
	*net.UnixListener
	dir   *os.File
	name  string
	ino   uint64
	close sync.Once
}

// listenUnixIn binds name in dir with mode perm and, when group is set,
// that group. A stale socket nobody answers on is removed; one that
// answers is rpc.ErrInUse.
func listenUnixIn(dir, name string, perm fs.FileMode, group string) (*unixSock, error) {
	dfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket dir %s: %w (a link is refused)", dir, err)
	}
	d := os.NewFile(uintptr(dfd), dir)
	s := &unixSock{dir: d, name: name}
	if err := s.setUp(perm, group); err != nil {
		if s.UnixListener != nil {
			s.UnixListener.Close()
			s.unlink()
		}
		d.Close()
		return nil, err
	}
	return s, nil
}

func (s *unixSock) setUp(perm fs.FileMode, group string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(s.dir.Fd()), &st); err != nil {
		return err
	}
	if int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return fmt.Errorf("socket dir %s: owned by uid %d with mode %04o; it must be this user's (uid %d) and writable by nobody else",
			s.dir.Name(), st.Uid, st.Mode&0o7777, os.Geteuid())
	}
	if err := s.removeStale(); err != nil {
		return err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.viaDir(), Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.path(), err)
	}
	ln.SetUnlinkOnClose(false) // the name is the /proc path; unlink goes through the dir
	s.UnixListener = ln
	return s.setMode(perm, group)
}

func (s *unixSock) path() string { return s.dir.Name() + "/" + s.name }
func (s *unixSock) viaDir() string {
	return "/proc/self/fd/" + strconv.Itoa(int(s.dir.Fd())) + "/" + s.name
}

// setMode chowns and chmods the socket through an O_PATH descriptor of it.
func (s *unixSock) setMode(perm fs.FileMode, group string) error {
	fd, err := unix.Openat(int(s.dir.Fd()), s.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path(), err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("%s is not the socket just bound", s.path())
	}
	s.ino = st.Ino
	if group != "" {
		gid, err := lookupGID(group)
		if err != nil {
			return err
		}
		if err := unix.Fchownat(fd, "", -1, gid, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("chgrp %s %s: %w", group, s.path(), err)
		}
	}
	// chmod of an O_PATH descriptor goes through its /proc magic link,
	// which names the inode itself, not a path.
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), uint32(perm.Perm())); err != nil {
		return fmt.Errorf("chmod %s: %w", s.path(), err)
	}
	return nil
}

func lookupGID(group string) (int, error) {
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, fmt.Errorf("socket group: %w", err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("socket group %s: gid %q: %w", group, g.Gid, err)
	}
	return gid, nil
}

// removeStale removes a socket left by a crashed host; something that is
// not a socket, or a socket that answers, is left alone.
func (s *unixSock) removeStale() error {
	var st unix.Stat_t
	err := unix.Fstatat(int(s.dir.Fd()), s.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("%s exists and is not a socket; move it away first", s.path())
	}
	conn, err := net.DialTimeout("unix", s.viaDir(), 2*time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("%w: another host is serving %s; stop it first", rpc.ErrInUse, s.path())
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("cannot tell whether %s is in use: %w", s.path(), err)
	}
	if err := unix.Unlinkat(int(s.dir.Fd()), s.name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove stale socket %s: %w", s.path(), err)
	}
	return nil
}

// unlink removes the socket if it is still the one this host bound.
func (s *unixSock) unlink() {
	var st unix.Stat_t
	if unix.Fstatat(int(s.dir.Fd()), s.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Ino == s.ino && s.ino != 0 {
		_ = unix.Unlinkat(int(s.dir.Fd()), s.name, 0)
	}
}

// Close stops listening and removes the socket.
func (s *unixSock) Close() error {
	var err error
	s.close.Do(func() {
		err = s.UnixListener.Close()
		s.unlink()
		s.dir.Close()
	})
	return err
}
