package sockdir

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// base makes a PATH_SOCKET base with mode (octal, 01000 the sticky bit).
func base(t *testing.T, mode uint32) string {
	t.Helper()
	b := filepath.Join(t.TempDir(), "sockets")
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(b, mode); err != nil {
		t.Fatal(err)
	}
	return b
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestOpenMakesAndFixesTheDir: a new dir gets 0755 whatever the umask, an
// existing one of the caller's is set to 0755 through its descriptor.
func TestOpenMakesAndFixesTheDir(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	b := base(t, 0o755)
	d, err := Open(filepath.Join(b, "hc"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if m := modeOf(t, filepath.Join(b, "hc")); m != Mode {
		t.Errorf("new dir mode %04o", m)
	}
	os.Chmod(filepath.Join(b, "hc"), 0o700)
	if d, err = Open(filepath.Join(b, "hc")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if m := modeOf(t, filepath.Join(b, "hc")); m != Mode {
		t.Errorf("existing dir mode %04o", m)
	}
}

// TestPlantedDirLink: a socket dir that is a link (to a directory the
// caller owns and keeps private) is refused, and the directory it points
// to keeps its mode — it once got chmod 0755.
func TestPlantedDirLink(t *testing.T) {
	b := base(t, 0o1777)
	victim := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(victim, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(b, "hc")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(filepath.Join(b, "hc"))
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a linked socket dir: %v", err)
	}
	if m := modeOf(t, victim); m != 0o700 {
		t.Errorf("the link's target became %04o", m)
	}
	if _, err := OpenExisting(filepath.Join(b, "hc")); err == nil {
		t.Error("OpenExisting followed the link")
	}
}

// TestPlantedPidLink: a host.pid planted as a link to a file is refused,
// and the file is not truncated — a planted link once truncated a
// root-owned file.
func TestPlantedPidLink(t *testing.T) {
	b := base(t, 0o755)
	d, err := Open(filepath.Join(b, "hc"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	victim := filepath.Join(t.TempDir(), "precious")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	os.Symlink(victim, d.Join("host.pid"))
	if _, err := d.OpenFile("host.pid", os.O_RDWR|os.O_CREATE, 0o644); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a planted pid link: %v", err)
	}
	if _, err := d.OpenFile("host.pid", os.O_RDONLY, 0); err == nil {
		t.Fatal("a read followed the link")
	}
	if err := d.Chmod("host.pid", 0o600); err == nil {
		t.Fatal("chmod followed the link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" || modeOf(t, victim) != 0o644 {
		t.Errorf("the link's target changed: %q %04o", b, modeOf(t, victim))
	}
	// A hard link to another file is refused too.
	os.Remove(d.Join("host.pid"))
	if err := os.Link(victim, d.Join("host.pid")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenFile("host.pid", os.O_RDWR|os.O_CREATE, 0o644); err == nil {
		t.Fatal("a hard-linked pid file was accepted")
	}
	os.Remove(d.Join("host.pid"))
	f, err := d.OpenFile("host.pid", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !d.Names("host.pid", f) {
		t.Error("Names does not recognise the file it made")
	}
	if f2, err := d.OpenFile("host.pid", os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		t.Errorf("the caller's own existing pid file: %v", err)
	} else {
		f2.Close()
	}
}

// TestWritableBase: a base others may write without the sticky bit is
// refused with a clear error; with the sticky bit (like /tmp) it is safe.
func TestWritableBase(t *testing.T) {
	_, err := Open(filepath.Join(base(t, 0o777), "hc"))
	if err == nil || !strings.Contains(err.Error(), "without the sticky bit") {
		t.Fatalf("a world-writable base: %v", err)
	}
	d, err := Open(filepath.Join(base(t, 0o1777), "hc"))
	if err != nil {
		t.Fatalf("a sticky base: %v", err)
	}
	d.Close()
}

// TestOthersDirs: a socket dir, or a directory above it, that belongs to
// another user is refused.
func TestOthersDirs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another uid")
	}
	const other = 4_000_000_123
	b := base(t, 0o1777)
	theirs := filepath.Join(b, "hc")
	os.Mkdir(theirs, 0o755)
	os.Chown(theirs, other, other)
	if _, err := Open(theirs); err == nil || !strings.Contains(err.Error(), "belongs to uid") {
		t.Fatalf("another user's socket dir: %v", err)
	}
	theirBase := base(t, 0o755)
	os.Chown(theirBase, other, other)
	if _, err := Open(filepath.Join(theirBase, "hc")); err == nil || !strings.Contains(err.Error(), "belongs to uid") {
		t.Fatalf("under another user's base: %v", err)
	}
}

// TestChmodSocket changes a socket's mode through a descriptor.
func TestChmodSocket(t *testing.T) {
	b := base(t, 0o755)
	d, err := Open(filepath.Join(b, "hc"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: d.Join("rpc.sock")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Chmod("rpc.sock", 0o660); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, d.Join("rpc.sock")); m != 0o660 {
		t.Errorf("socket mode %04o", m)
	}
	if err := d.Chown("rpc.sock", -1, os.Getegid()); err != nil {
		t.Error(err)
	}
	if err := d.Remove("rpc.sock"); err != nil {
		t.Error(err)
	}
}
