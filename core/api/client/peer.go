package client

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/core/api/sockdir"
)

// UntrustedPeerError is a socket served by a process the client will not
// talk to: it could be a host another user planted where this one looks
// (PATH_SOCKET under /tmp, with no host running there), waiting for a
// forge token or the fleet's passphrase. Nothing was sent to it.
type UntrustedPeerError struct {
	Socket string
	UID    uint32
	Why    string
}

func (e *UntrustedPeerError) Error() string {
	return fmt.Sprintf("refusing to talk to the process serving %s: it runs as uid %d, neither root nor you, and %s, so another user may have put it there; nothing was sent (start the host under a PATH_SOCKET that only root or its own account can write, such as /run)",
		e.Socket, e.UID, e.Why)
}

// checkPeer vouches for the process serving conn before anything is sent
// to it: root, this user, or an account whose socket dir, and every
// directory above it, only it or root can write (the driver account's
// /run/hero_codescalers). The process is the one that bound the socket,
// as the kernel tells (SO_PEERCRED): it cannot claim another uid.
func checkPeer(conn net.Conn, socket string) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("connect %s: read the peer's credentials: %w", socket, credErr)
	}
	if cred.Uid == 0 || int(cred.Uid) == os.Geteuid() {
		return nil
	}
	if err := sockdir.OnlyWritableBy(filepath.Dir(socket), cred.Uid); err != nil {
		return &UntrustedPeerError{Socket: socket, UID: cred.Uid, Why: err.Error()}
	}
	return nil
}
