package host

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"

	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// Modes of the socket dir and of rpc.sock: the dir is world-readable so a
// client can find the socket; the socket is owner-only unless a group is
// configured (root bypasses the mode anyway).
const (
	socketDirMode   fs.FileMode = 0o755
	socketMode      fs.FileMode = 0o600
	socketGroupMode fs.FileMode = 0o660
)

// socket is the listening rpc.sock with the file it created, so the host
// removes its own socket at exit and never one a newer host created.
type socket struct {
	*net.UnixListener
	fi fs.FileInfo
}

// listen creates the socket dir and takes rpc.sock.
func listen(cfg Config) (*socket, error) {
	dir := cfg.Paths.SocketDir
	if err := os.MkdirAll(dir, socketDirMode); err != nil {
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	// MkdirAll leaves an existing dir's mode and applies the umask to a
	// new one; the dir's mode is part of the contract.
	if err := os.Chmod(dir, socketDirMode); err != nil {
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	mode := socketMode
	if cfg.SocketGroup != "" {
		mode = socketGroupMode
	}
	ln, err := rpc.Listen(cfg.Paths.RPCSocket, mode, cfg.SocketGroup)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(cfg.Paths.RPCSocket)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return &socket{UnixListener: ln, fi: fi}, nil
}

// removeSocket removes rpc.sock if it is still the one this host created.
// Closing the listener normally unlinks it already.
func removeSocket(path string, ours fs.FileInfo, log *slog.Logger) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil && os.SameFile(fi, ours) {
		err = os.Remove(path)
	}
	if err != nil {
		log.Warn("cannot remove the socket", "path", path, "err", err)
	}
}
