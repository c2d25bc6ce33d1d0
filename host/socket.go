package host

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// Modes of rpc.sock: owner-only unless a group is configured (root
// bypasses the mode anyway). The socket dir is sockdir.Mode, 0755, so a
// client can find the socket.
const (
	socketMode      fs.FileMode = 0o600
	socketGroupMode fs.FileMode = 0o660
)

// socket is the listening rpc.sock with the file it created, so the host
// removes its own socket at exit and never one a newer host created.
type socket struct {
	*net.UnixListener
	fi fs.FileInfo
}

// listen takes rpc.sock; rpc.Listen makes and checks the socket dir
// (sockdir), so nothing here follows a link planted under PATH_SOCKET.
func listen(cfg Config) (*socket, error) {
	if filepath.Dir(cfg.Paths.RPCSocket) != filepath.Clean(cfg.Paths.SocketDir) {
		return nil, fmt.Errorf("socket %s is not in the socket dir %s", cfg.Paths.RPCSocket, cfg.Paths.SocketDir)
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
