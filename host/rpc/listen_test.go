package rpc

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestListen(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "rpc.sock")
	ln, err := Listen(path, 0o600, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v: %v", fi.Mode(), err)
	}
	// Something answers on it: a second listener is refused.
	if _, err := Listen(path, 0o600, ""); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen: %v, want ErrInUse", err)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
}

// TestListenRemovesStaleSocket leaves a socket file nobody listens on, as
// a killed host would, and checks Listen takes it over.
func TestListenRemovesStaleSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "rpc.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	if _, err := net.Dial("unix", path); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("stale socket answers: %v", err)
	}
	ln, err := Listen(path, 0o600, "")
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "rpc.sock")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, 0o600, ""); err == nil {
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatal("the file was touched")
	}
}

func TestListenGroup(t *testing.T) {
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Skipf("no name for gid %d: %v", os.Getgid(), err)
	}
	path := filepath.Join(shortDir(t), "rpc.sock")
	ln, err := Listen(path, 0o660, g.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, _ := os.Lstat(path)
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o660 || strconv.Itoa(int(st.Gid)) != g.Gid {
		t.Fatalf("mode %v gid %d, want 0660 %s", fi.Mode().Perm(), st.Gid, g.Gid)
	}
	if _, err := Listen(filepath.Join(filepath.Dir(path), "b.sock"), 0o660, "no-such-group-hc"); err == nil {
		t.Fatal("unknown group accepted")
	}
}
