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
