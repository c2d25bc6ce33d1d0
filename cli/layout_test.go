package cli

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestProbeSocket: a host that listens is live; the socket file a stopped
// or killed host left is stale; a missing path or a plain file is none.
// The layout puts a live host first, so a leftover does not hide one.
func TestProbeSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rpc.sock")
	if got := probeSocket(path); got != socketNone {
		t.Errorf("no socket: %v, want none", got)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if got := probeSocket(path); got != socketLive {
		t.Errorf("a listening host: %v, want live", got)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if got := probeSocket(path); got != socketStale {
		t.Errorf("a stopped host's socket file: %v, want stale", got)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := probeSocket(plain); got != socketNone {
		t.Errorf("a plain file: %v, want none", got)
	}
}
