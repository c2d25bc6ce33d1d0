package etcdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestWaitTools: while the lckpwdf lock is held (as a tool a crashed
// plugin left running holds it), WaitTools waits, and gives up Unavailable
// when its context ends; once the lock is free it returns. The holder is
// another open file description of the lock file: its lock conflicts as
// another process's would.
func TestWaitTools(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Open(filepath.Join(dir, PwdLock), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := WaitTools(ctx, dir); !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Fatalf("with the lock held: %v", err)
	}
	unix.Close(fd)
	if err := WaitTools(context.Background(), dir); err != nil {
		t.Fatalf("with the lock free: %v", err)
	}
}

// TestPendingRoundTrip: the record keeps names, uids and homes; an empty
// one is no file; a record others could write is refused.
func TestPendingRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := map[string]Pending{"ann": {Name: "ann", UID: 1500, Home: "/home/ann"}, "ben": {Name: "ben", UID: 1501}}
	if err := WritePending(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPending(dir)
	if err != nil || len(got) != 2 || got["ann"] != want["ann"] || got["ben"] != want["ben"] {
		t.Fatalf("read back %+v %v", got, err)
	}
	path := filepath.Join(dir, PendingFile)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("record's mode: %v %v", st.Mode(), err)
	}
	if err := os.Chmod(path, 0o622); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPending(dir); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("a record others may write: %v", err)
	}
	if err := WritePending(dir, map[string]Pending{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("empty record left as a file: %v", err)
	}
}

// TestDeletableUser: besides managed accounts, a delete may remove exactly
// the name and uid the record holds of an account outside the marker
// group, with a uid in the policy's range; never root, a system account or
// one recorded with another uid.
func TestDeletableUser(t *testing.T) {
	j, _ := judge(t)
	pend := map[string]Pending{
		"bob":     {Name: "bob", UID: 1002},
		"sysuser": {Name: "sysuser", UID: 500},
		"daemon":  {Name: "daemon", UID: 1},
		"root":    {Name: "root", UID: 0},
	}
	for name, code := range map[string]sdkerr.Code{
		"alice": "", "bob": "", "sysuser": sdkerr.PermissionDenied, "daemon": sdkerr.PermissionDenied,
		"root": sdkerr.PermissionDenied, "nosuch": sdkerr.NotFound,
	} {
		_, err := j.DeletableUser(name, pend)
		wantCode(t, "DeletableUser("+name+")", err, code)
	}
	_, err := j.DeletableUser("bob", map[string]Pending{"bob": {Name: "bob", UID: 9999}})
	wantCode(t, "bob recorded with another uid", err, sdkerr.PermissionDenied)
	_, err = j.DeletableUser("bob", nil)
	wantCode(t, "bob not recorded", err, sdkerr.PermissionDenied)
}
