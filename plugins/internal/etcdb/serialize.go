package etcdb

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// PwdLock is lckpwdf's lock file, beside the account files.
const PwdLock = ".pwd.lock"

// Serialize makes this process the only hero accounts plugin changing the
// account files of dir until unlock is called, across processes: a BSD
// flock(2) on dir/.pwd.lock. Linux keeps flock and fcntl locks apart, so
// this never blocks the shadow-utils tools, whose lckpwdf takes an fcntl
// lock on the same file, and needs no file of its own.
//
// Why it is needed: useradd checks that a name is free before it takes
// lckpwdf, and under the lock it replaces an entry of the same name
// instead of failing, so two concurrent useradds of one name both
// "succeed", the second rewriting the first's uid while the first's home
// stays owned by the old uid. Serialized, the second create sees the
// first's account and answers as a repeated create does.
func Serialize(ctx context.Context, dir string) (unlock func(), err error) {
	fd, err := unix.Open(filepath.Join(dir, PwdLock), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "open %s/%s: %v", dir, PwdLock, err)
	}
	delay := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Close(fd) }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			unix.Close(fd)
			return nil, sdkerr.Wrap(err, sdkerr.Internal, "flock %s/%s: %v", dir, PwdLock, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			unix.Close(fd)
			return nil, sdkerr.Wrap(ctx.Err(), sdkerr.Unavailable, "waiting for another accounts plugin: %v", ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// WaitTools waits until no process holds the shadow-utils lock of dir
// (lckpwdf's fcntl lock on .pwd.lock, which every tool holds from its
// first change to its last). A host crash kills the accounts plugin but
// not the newusers or gpasswd it started: those run on and write the
// account files after the plugin is gone. A plugin waits for them before
// it reads the files, so the rollback of a crashed batch acts on what
// newusers wrote in the end, not on what it had not written yet (and its
// delete of an account not written yet would otherwise find nothing, and
// leave the account newusers then writes). The lock is taken and dropped
// at once (an open file description lock, which conflicts with glibc's);
// a tool a plugin starts later takes it for itself. Unavailable when ctx
// ends first.
func WaitTools(ctx context.Context, dir string) error {
	fd, err := unix.Open(filepath.Join(dir, PwdLock), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "open %s/%s: %v", dir, PwdLock, err)
	}
	defer unix.Close(fd) // drops the lock
	delay := time.Millisecond
	for {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
		err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
			return sdkerr.Wrap(err, sdkerr.Internal, "lock %s/%s: %v", dir, PwdLock, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return sdkerr.Wrap(ctx.Err(), sdkerr.Unavailable, "the account files stay locked by another process: %v", ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}
