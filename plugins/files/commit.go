package files

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// selinuxXattr carries a file's SELinux label; a file renamed into /etc
// would otherwise get /etc's default label instead of passwd_file_t or
// shadow_t, as shadow-utils avoids with setfscreatecon.
const selinuxXattr = "security.selinux"

// commit writes every changed file of db, in shadow-utils' order, each as
// <file>- (the content it replaces, as shadow-utils keeps it) and then the
// new content renamed over <file>, releasing the file's lock right after,
// as userdel does. The directory is fsynced at the end.
func (l *etcLock) commit(db *etcdb.DB) error {
	for _, name := range db.Changed() {
		if !slices.Contains(l.held, name) {
			return sdkerr.Errorf(sdkerr.Internal, "%s/%s changed without its lock", l.dir, name)
		}
		if err := l.replace(name, db.Original(name), db.Tables[name].Bytes()); err != nil {
			return err
		}
		_ = unix.Unlinkat(l.dirfd, name+".lock", 0)
		l.held = slices.DeleteFunc(l.held, func(n string) bool { return n == name })
		failpoint.Point("accounts.files.commit." + name + ".after")
	}
	if err := unix.Fsync(l.dirfd); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s: %v", l.dir, err)
	}
	return nil
}

// replace writes the backup, then the new file, both with the owner, mode
// and SELinux label of the file they replace.
func (l *etcLock) replace(name string, old, data []byte) error {
	var st unix.Stat_t
	if err := unix.Fstatat(l.dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "stat %s/%s: %v", l.dir, name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s/%s is not a regular file; refusing to replace it", l.dir, name)
	}
	label := l.label(name)
	if err := l.writeBackup(name+"-", old, st, label); err != nil {
		return err
	}
	return l.writeAtomic(name, data, st, label)
}

// writeBackup puts old in <file>- as shadow-utils' create_backup does: in
// place, without a rename; unlike it, without an fsync either — the backup
// is an admin's convenience, never read back, and a crash leaves the
// account file itself whole (writeAtomic). That is a rename and an fsync
// fewer per changed file, most of a create's time in this plugin. Owner,
// mode and label are set before the content goes in; a backup that is not
// a plain file with one link (a symlink, a hard link elsewhere) is
// replaced by rename instead, so nothing is written through it.
func (l *etcLock) writeBackup(name string, old []byte, st unix.Stat_t, label []byte) error {
	fd, err := unix.Openat(l.dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return l.writeAtomic(name, old, st, label)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var bst unix.Stat_t
	if err := unix.Fstat(fd, &bst); err != nil || bst.Mode&unix.S_IFMT != unix.S_IFREG || bst.Nlink != 1 {
		return l.writeAtomic(name, old, st, label)
	}
	err = unix.Fchown(fd, int(st.Uid), int(st.Gid))
	if err == nil {
		err = unix.Fchmod(fd, st.Mode&0o7777)
	}
	if err == nil && label != nil {
		if err = unix.Fsetxattr(fd, selinuxXattr, label, 0); errors.Is(err, unix.ENOTSUP) {
			err = nil
		}
	}
	if err == nil {
		err = unix.Ftruncate(fd, 0)
	}
	if err == nil {
		_, err = f.Write(old)
	}
	if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "write %s/%s: %v", l.dir, name, err)
	}
	return nil
}

func (l *etcLock) label(name string) []byte {
	fd, err := unix.Openat(l.dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	buf := make([]byte, 256)
	n, err := unix.Fgetxattr(fd, selinuxXattr, buf)
	if err != nil || n <= 0 {
		return nil
	}
	return buf[:n]
}

// writeAtomic places data at name: a temporary file is written, given
// st's owner and mode (and the label), fsynced, then renamed over name.
func (l *etcLock) writeAtomic(name string, data []byte, st unix.Stat_t, label []byte) error {
	tmp := fmt.Sprintf(".%s.hc%d", name, os.Getpid())
	_ = unix.Unlinkat(l.dirfd, tmp, 0) // left by a crash of ours: the lock is ours now
	fd, err := unix.Openat(l.dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "create %s/%s: %v", l.dir, tmp, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	err = fill(f, data, st, label)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(l.dirfd, tmp, l.dirfd, name)
	}
	if err != nil {
		_ = unix.Unlinkat(l.dirfd, tmp, 0)
		return sdkerr.Wrap(err, sdkerr.Internal, "write %s/%s: %v", l.dir, name, err)
	}
	return nil
}

func fill(f *os.File, data []byte, st unix.Stat_t, label []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	fd := int(f.Fd())
	if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, st.Mode&0o7777); err != nil {
		return err
	}
	if label != nil {
		if err := unix.Fsetxattr(fd, selinuxXattr, label, 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return err
		}
	}
	return f.Sync()
}
