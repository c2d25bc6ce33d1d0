package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// A plugin's own files are the ones it keeps for a daemon to read, outside
// every home, beneath one of its extra roots in the policy (never a home
// root): authorizedkeysd's /etc/ssh/authorized_keys.d/<user>, which sshd
// wants root's and not writable by the user. They are root's, mode
// without setuid, setgid or write for others, and nothing is followed
// through a link on the way.

// OwnPath checks that path lies strictly beneath one of the plugin's extra
// roots, not a home root, and returns that root.
func (f *Fence) OwnPath(field, path string) (string, error) {
	root, err := f.Below(field, path)
	if err != nil {
		return "", err
	}
	if slices.Contains(f.p.HomeRoots, root) {
		return "", sdkerr.Errorf(sdkerr.PermissionDenied, "%s %s lies beneath home root %s: a plugin keeps its own files only beneath its extra roots ([roots] of %s)",
			field, path, root, policy.Path)
	}
	return root, nil
}

// OwnRoots are the plugin's extra roots: its roots that are no home root.
func (f *Fence) OwnRoots() []string {
	return slices.DeleteFunc(slices.Clone(f.roots), func(r string) bool { return slices.Contains(f.p.HomeRoots, r) })
}

// WriteOwnFile replaces the regular file path, beneath an extra root, with
// data owned by root with mode (permission bits only, none for others to
// write), atomically (see WriteFileBeneath).
func (f *Fence) WriteOwnFile(path string, data []byte, mode uint32, sync bool) error {
	root, err := f.OwnPath("path", path)
	if err != nil {
		return err
	}
	if mode&^0o755 != 0 {
		return sdkerr.Errorf(sdkerr.PermissionDenied, "%s: mode %#o refused: a plugin's own file is writable by root alone, never setuid or setgid", path, mode)
	}
	return WriteFileBeneath(root, path, data, 0, 0, os.FileMode(mode), sync)
}

// RemoveOwnFile removes the regular file path beneath an extra root,
// never through a link, and reports whether there was one. A directory or
// anything but a regular file or a symlink at path is refused.
func (f *Fence) RemoveOwnFile(path string, sync bool) (bool, error) {
	root, err := f.OwnPath("path", path)
	if err != nil {
		return false, err
	}
	dirfd, err := OpenDirBeneath(root, filepath.Dir(path))
	if IsNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(path)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return false, nil
	} else if err != nil {
		return false, pathError(path, err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFLNK {
		return false, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a regular file; not removed", path)
	}
	if err := unix.Unlinkat(dirfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return false, pathError(path, err)
	}
	if sync {
		if err := unix.Fsync(dirfd); err != nil {
			return true, sdkerr.Wrap(err, sdkerr.Internal, "fsync %s", filepath.Dir(path))
		}
	}
	return true, nil
}

// EnsureOwnRoot makes the extra root dir when it is missing (root's,
// 0755; its parent must exist) and checks an existing one: a directory,
// not a link, root's, writable by root alone — what sshd's StrictModes
// wants of a directory holding key files.
func (f *Fence) EnsureOwnRoot(dir string) error {
	if !slices.Contains(f.OwnRoots(), dir) {
		return sdkerr.Errorf(sdkerr.PermissionDenied, "%s is not one of the extra roots the policy gives plugin %s (%s)",
			dir, f.plugin, strings.Join(f.OwnRoots(), ", "))
	}
	if err := unix.Mkdir(dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return pathError(dir, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return pathError(dir, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a directory (a link or a file); the plugin keeps its files only in a real one", dir)
	case st.Uid != 0 || st.Mode&0o022 != 0:
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is owned by %d with mode %#o: it must be root's and writable by root alone", dir, st.Uid, st.Mode&0o7777)
	}
	return nil
}

// ManagedUser judges the user a call names, trusting none of it: an
// account of that name that the policy manages (in the marker group, uid
// in range) whose uid is u.UID. NotFound when no account has the name,
// PermissionDenied naming the rule otherwise.
func (f *Fence) ManagedUser(u lifecycle.User) error {
	m, err := f.Machine()
	if err != nil {
		return err
	}
	uid, ok := m.UserID(u.Name)
	switch {
	case !ok:
		return sdkerr.Errorf(sdkerr.NotFound, "no account %s", u.Name)
	case !m.UserManaged(u.Name):
		return sdkerr.Errorf(sdkerr.PermissionDenied, "%s is not a managed account (in marker group %s, uid %d..%d); refused",
			u.Name, f.p.MarkerGroup, f.p.UIDMin, f.p.UIDMax)
	case uid != u.UID:
		return sdkerr.Errorf(sdkerr.PermissionDenied, "account %s has uid %d, not %d; refused", u.Name, uid, u.UID)
	}
	return nil
}

// Forgettable judges a user whose state a Forget would remove: a managed
// account, or no account of that name at all (it was deleted before the
// host could forget it, after a crash: what is named after it is stale).
// An unmanaged account of that name is PermissionDenied.
func (f *Fence) Forgettable(u lifecycle.User) error {
	err := f.ManagedUser(u)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	}
	return err
}
