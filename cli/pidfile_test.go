package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestPIDLock walks the pid file through a host's life: held (live, a
// second holder refused), released (gone), and stale (left by a killed
// host: exists, not live, removable).
func TestPIDLock(t *testing.T) {
	path := filepath.Join(shortDir(t), "host.pid")
	if st, err := probePID(path); err != nil || st != (pidState{}) {
		t.Fatalf("no file: %+v %v", st, err)
	}
	l, err := lockPIDFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.writePID(4242); err != nil {
		t.Fatal(err)
	}
	if st, _ := probePID(path); !st.live || st.pid != 4242 {
		t.Fatalf("held: %+v", st)
	}
	var running *errRunning
	if _, err := lockPIDFile(path, true); !errors.As(err, &running) || running.pid != 4242 {
		t.Fatalf("second lock: %v", err)
	}
	if _, removed, _ := removeStale(path); removed {
		t.Fatal("removeStale removed a live host's pid file")
	}
	l.release()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("release left the file: %v", err)
	}

	os.WriteFile(path, []byte("99999999\n"), 0o644) // what a SIGKILLed host leaves
	if st, _ := probePID(path); st.live || !st.exists || st.pid != 99999999 {
		t.Fatalf("stale: %+v", st)
	}
	if pid, removed, err := removeStale(path); !removed || pid != 99999999 || err != nil {
		t.Fatalf("removeStale: %d %v %v", pid, removed, err)
	}
	if _, removed, err := removeStale(path); removed || err != nil {
		t.Fatalf("removeStale of nothing: %v %v", removed, err)
	}
}

// TestPIDLockSurvivesUnlinkRace: a locker that opened the file just before
// its holder unlinked it must not end up holding a lock on the orphan.
func TestPIDLockSurvivesUnlinkRace(t *testing.T) {
	path := filepath.Join(shortDir(t), "host.pid")
	first, err := lockPIDFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := os.Open(path) // a racer's descriptor on the old inode
	defer orphan.Close()
	first.release()
	second, err := lockPIDFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer second.release()
	if !second.dir.Names("host.pid", second.f) {
		t.Fatal("the lock is not on the file the path names")
	}
	if st, _ := probePID(path); !st.live {
		t.Fatal("the new holder is not seen as live")
	}
}

// TestPIDFilePlanted: a host.pid planted as a link (to a file only its
// owner should write) or a socket dir planted as a link are refused by
// serve's lock, and status's probe does not read through them; the file
// behind the link is neither truncated nor chmodded.
func TestPIDFilePlanted(t *testing.T) {
	dir := shortDir(t)
	victim := filepath.Join(t.TempDir(), "precious")
	os.WriteFile(victim, []byte("keep me\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, "host.pid"))
	if _, err := lockPIDFile(filepath.Join(dir, "host.pid"), true); err == nil {
		t.Fatal("serve took a planted pid link")
	}
	if _, err := probePID(filepath.Join(dir, "host.pid")); err == nil {
		t.Fatal("the probe read through a planted pid link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Fatalf("the link's target was written: %q", b)
	}
	private := filepath.Join(t.TempDir(), "private")
	os.Mkdir(private, 0o700)
	linked := filepath.Join(shortDir(t), "hc")
	os.Symlink(private, linked)
	if _, err := lockPIDFile(filepath.Join(linked, "host.pid"), true); err == nil {
		t.Fatal("serve used a planted socket dir link")
	}
	if fi, _ := os.Stat(private); fi.Mode().Perm() != 0o700 {
		t.Fatalf("the linked dir became %04o", fi.Mode().Perm())
	}
	if _, err := os.Lstat(filepath.Join(private, "host.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a pid file was made in the linked dir")
	}
}
