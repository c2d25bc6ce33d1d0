package rpc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api/sockdir"
)

// ErrInUse is returned by Listen when another process answers on the
// socket: a second host must not steal a running host's socket.
var ErrInUse = errors.New("socket in use")

// Listen listens on the Unix socket at path with mode perm and, when group
// is set, that group. Its directory is made if missing and opened without
// following links (sockdir: it must be the caller's, under a base others
// cannot write, or a sticky one), and the socket's mode and group are set
// through descriptors, never a path. A stale socket left by a crashed host
// is removed; a socket something still answers on is refused with
// ErrInUse. Between bind and chmod the socket has the umask's mode, which
// with the usual 022 lets nobody else connect; privileged methods are
// checked per call anyway.
func Listen(path string, perm os.FileMode, group string) (*net.UnixListener, error) {
	d, err := sockdir.Open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	name := filepath.Base(path)
	if err := removeStale(d, name); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := setOwnership(d, name, perm, group); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// removeStale removes a socket nobody answers on.
func removeStale(d *sockdir.Dir, name string) error {
	path := d.Join(name)
	st, err := d.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return fmt.Errorf("%s exists and is not a socket; move it away first", path)
	}
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("%w: another host is serving %s; stop it first", ErrInUse, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("cannot tell whether %s is in use: %w", path, err)
	}
	if err := d.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

func setOwnership(d *sockdir.Dir, name string, perm os.FileMode, group string) error {
	path := d.Join(name)
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return fmt.Errorf("socket group: %w", err)
		}
		gid, err := strconv.Atoi(g.Gid)
		if err != nil {
			return fmt.Errorf("socket group %s: gid %q: %w", group, g.Gid, err)
		}
		if err := d.Chown(name, -1, gid); err != nil {
			return fmt.Errorf("chgrp %s %s: %w", group, path, err)
		}
	}
	if err := d.Chmod(name, perm); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

// ConnContext is the http.Server hook that reads the peer's credentials
// (SO_PEERCRED) once per connection and attaches them to every request's
// context as a core.Caller. Connections that are not Unix sockets carry no
// caller and are never privileged. A wrapped connection (a connection
// limit's) is unwrapped through its NetConn method, as tls.Conn's.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := unixConn(c)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return ctx
	}
	return core.WithCaller(ctx, core.Caller{UID: int(cred.Uid), GID: int(cred.Gid), PID: int(cred.Pid)})
}

// unixConn finds the Unix socket under c's wrappers, if there is one.
func unixConn(c net.Conn) (*net.UnixConn, bool) {
	for range 8 { // wrappers are few; a cycle must not hang the server
		switch v := c.(type) {
		case *net.UnixConn:
			return v, true
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil, false
		}
	}
	return nil, false
}

// NewHTTPServer wraps h in an http.Server set up for a Unix socket: peer
// credentials per connection, bounded header and body reads, idle
// keep-alive connections closed after two minutes, and net/http's own
// complaints sent to log.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
