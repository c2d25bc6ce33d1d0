package files

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// pwdLock is the lock file of lckpwdf(3), which every shadow-utils tool
// takes first.
const pwdLock = etcdb.PwdLock

// errBusy says another process holds one of the locks.
var errBusy = errors.New("account files locked by another process")

// etcLock is the whole shadow-utils lock protocol, as strace shows
// Debian 12's useradd, userdel and newusers (shadow 4.13) taking it:
//
//  1. lckpwdf: open /etc/.pwd.lock O_WRONLY|O_CREAT 0600 and take a write
//     lock on the whole file with fcntl (glibc waits up to 15 s);
//  2. for each account file, in the order passwd, shadow, group, gshadow,
//     subuid, subgid: write "<pid>\0" to <file>.<pid> and link(2) it to
//     <file>.lock; a lock whose pid is dead is stale and removed;
//  3. write each file as <file>- (the previous content) and a new file
//     renamed over <file>, then unlink <file>.lock;
//  4. release the fcntl lock.
//
// The fcntl lock here is an open file description lock (F_OFD_SETLK):
// Linux makes it conflict with glibc's classic POSIX lock, and unlike a
// classic one it is not shared between the goroutines of this process nor
// dropped when some other descriptor of the file is closed.
type etcLock struct {
	dir   string
	dirfd int
	fd    int
	held  []string
}

// acquire takes the locks, polling with a growing backoff until timeout
// (or ctx's deadline, if sooner), then fails Unavailable.
func acquire(ctx context.Context, dir string, timeout time.Duration) (*etcLock, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	delay := time.Millisecond
	for {
		l, err := tryAcquire(dir)
		if !errors.Is(err, errBusy) {
			return l, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, sdkerr.Wrap(err, sdkerr.Unavailable, "cannot lock the account files in %s: %v for %s", dir, err, timeout)
		}
		t := time.NewTimer(min(delay, wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, sdkerr.Wrap(ctx.Err(), sdkerr.Unavailable, "waiting for the account files' lock: %v", ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// tryAcquire takes every lock or none.
func tryAcquire(dir string) (*etcLock, error) {
	dirfd, err := fsutil.OpenDirNoFollow(dir)
	if err != nil {
		return nil, err
	}
	l := &etcLock{dir: dir, dirfd: dirfd, fd: -1}
	if err := l.lockPwd(); err != nil {
		l.release()
		return nil, err
	}
	for _, name := range etcdb.Files {
		if !l.exists(name) {
			continue
		}
		if err := l.lockFile(name); err != nil {
			l.release()
			return nil, err
		}
		l.held = append(l.held, name)
	}
	return l, nil
}

func (l *etcLock) lockPwd() error {
	fd, err := unix.Openat(l.dirfd, pwdLock, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "open %s/%s: %v", l.dir, pwdLock, err)
	}
	l.fd = fd
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	err = unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w: %s/%s", errBusy, l.dir, pwdLock)
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "lock %s/%s: %v", l.dir, pwdLock, err)
}

func (l *etcLock) exists(name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(l.dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// lockFile takes <name>.lock the way shadow's commonio does.
func (l *etcLock) lockFile(name string) error {
	pid := os.Getpid()
	tmp := fmt.Sprintf("%s.%d", name, pid)
	fd, err := unix.Openat(l.dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "create %s/%s: %v", l.dir, tmp, err)
	}
	_, werr := unix.Write(fd, []byte(strconv.Itoa(pid)+"\x00"))
	unix.Close(fd)
	defer unix.Unlinkat(l.dirfd, tmp, 0)
	if werr != nil {
		return sdkerr.Wrap(werr, sdkerr.Internal, "write %s/%s: %v", l.dir, tmp, werr)
	}
	lock := name + ".lock"
	for try := 0; try < 2; try++ {
		err := unix.Linkat(l.dirfd, tmp, l.dirfd, lock, 0)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return sdkerr.Wrap(err, sdkerr.Internal, "link %s/%s: %v", l.dir, lock, err)
		}
		if !l.stale(lock) {
			return fmt.Errorf("%w: %s/%s", errBusy, l.dir, lock)
		}
		_ = unix.Unlinkat(l.dirfd, lock, 0)
	}
	return fmt.Errorf("%w: %s/%s", errBusy, l.dir, lock)
}

// stale reports whether a lock file names a process that is gone (or this
// one: every lock of ours is released before mu is, so one left with our
// pid is from a failed release). A lock without a valid pid is not stale,
// as shadow-utils does not treat it as stale either.
func (l *etcLock) stale(lock string) bool {
	fd, err := unix.Openat(l.dirfd, lock, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return errors.Is(err, unix.ENOENT) // released meanwhile: try again
	}
	buf := make([]byte, 32)
	n, _ := unix.Read(fd, buf)
	unix.Close(fd)
	text := strings.TrimRight(string(buf[:max(n, 0)]), "\x00\n ")
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	return errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

// release drops every lock, in the order taken.
func (l *etcLock) release() {
	for _, name := range l.held {
		_ = unix.Unlinkat(l.dirfd, name+".lock", 0)
	}
	l.held = nil
	if l.fd >= 0 {
		unix.Close(l.fd) // drops the fcntl lock
		l.fd = -1
	}
	if l.dirfd >= 0 {
		unix.Close(l.dirfd)
		l.dirfd = -1
	}
}
