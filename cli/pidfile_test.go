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
	if !namesFile(path, second.f) {
		t.Fatal("the lock is not on the file the path names")
	}
	if st, _ := probePID(path); !st.live {
		t.Fatal("the new holder is not seen as live")
	}
}
