package rpc

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestListenRefusesPlantedDir: under a sticky world-writable PATH_SOCKET,
// a socket dir planted as a link to a private directory is refused, and
// that directory neither gets a socket nor has its mode changed; a base
// others may write without the sticky bit is refused with a clear error.
func TestListenRefusesPlantedDir(t *testing.T) {
	base := filepath.Join(shortDir(t), "s")
	os.Mkdir(base, 0o755)
	syscall.Chmod(base, 0o1777)
	private := filepath.Join(shortDir(t), "p")
	os.Mkdir(private, 0o700)
	os.Symlink(private, filepath.Join(base, "hc"))
	if _, err := Listen(filepath.Join(base, "hc", "rpc.sock"), 0o600, ""); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a planted socket dir link: %v", err)
	}
	if fi, _ := os.Stat(private); fi.Mode().Perm() != 0o700 {
		t.Errorf("the linked dir became %04o", fi.Mode().Perm())
	}
	if _, err := os.Lstat(filepath.Join(private, "rpc.sock")); !os.IsNotExist(err) {
		t.Error("a socket was made in the linked dir")
	}
	open := filepath.Join(shortDir(t), "w")
	os.Mkdir(open, 0o755)
	syscall.Chmod(open, 0o777)
	if _, err := Listen(filepath.Join(open, "hc", "rpc.sock"), 0o600, ""); err == nil || !strings.Contains(err.Error(), "sticky") {
		t.Fatalf("a world-writable base: %v", err)
	}
	ln, err := Listen(filepath.Join(base, "mine", "rpc.sock"), 0o660, "")
	if err != nil {
		t.Fatalf("a fresh dir under the sticky base: %v", err)
	}
	defer ln.Close()
	if fi, _ := os.Lstat(filepath.Join(base, "mine", "rpc.sock")); fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %04o", fi.Mode().Perm())
	}
}
