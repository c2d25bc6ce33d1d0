package etcdb

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// PendingFile, beside the policy, lists the accounts an accounts plugin is
// making in more than one write. A batch create makes its accounts first
// (newusers, or the files plugin's passwd) and puts them in the marker
// group after; a crash in between leaves accounts outside the marker
// group, which no call may touch (Judge.ManagedUser), so nothing could
// remove them. The plugin writes their names and uids here, durably,
// before the first write, and drops them once they are in the marker
// group: until then Judge.DeletableUser lets a delete of exactly that name
// and uid through, so the host's rollback can remove what the crashed
// batch left. Only the plugin writes the record (root:root 0600, read
// only when root-owned and writable by nobody else, never through a
// link), and only for names that did not exist, with uids of the policy's
// range it chose itself: no call names what goes on it, so it never
// widens what a caller may touch beyond accounts the plugin made itself.
const PendingFile = "hero_codescalers/pending-accounts"

// Pending is an account being made.
type Pending struct {
	Name string
	UID  uint32
	// Home is a home directory the tool makes for it that was not there
	// before (newusers makes every missing home); the rollback removes it
	// when it is still an empty directory of UID. "" when none.
	Home string
}

// ReadPending reads the record of dir (normally /etc); none is empty. A
// record someone else could have written (not the plugin's user's, or
// writable by group or others) is refused, FailedPrecondition: it would
// let a delete through.
func ReadPending(dir string) (map[string]Pending, error) {
	lines, err := readRecord(dir, PendingFile, 3)
	if err != nil {
		return nil, err
	}
	out := map[string]Pending{}
	for _, f := range lines {
		uid, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil || uid == 0 {
			continue
		}
		out[f[0]] = Pending{Name: f[0], UID: uint32(uid), Home: f[2]}
	}
	return out, nil
}

// WritePending replaces the record of dir with m, durably (the file and
// its directory are fsynced), or removes it when m is empty. The caller
// holds Serialize.
func WritePending(dir string, m map[string]Pending) error {
	lines := make([][]string, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		p := m[name]
		lines = append(lines, []string{p.Name, strconv.FormatUint(uint64(p.UID), 10), p.Home})
	}
	return writeRecord(dir, PendingFile, lines)
}

// readRecord reads a record a plugin keeps beside the account files:
// lines of n tab-separated fields (others are skipped). None is empty; a
// record someone else could have written (not root's or the plugin's
// user's, or writable by group or others) is refused, FailedPrecondition;
// it is never read through a link.
func readRecord(dir, file string, n int) ([][]string, error) {
	path := filepath.Join(dir, file)
	data, st, err := fsutil.ReadFileNoFollow(path, maxFile)
	if fsutil.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if (st.Uid != 0 && int(st.Uid) != os.Geteuid()) || st.Mode&0o022 != 0 {
		return nil, sdkerr.Errorf(sdkerr.FailedPrecondition,
			"the record %s is not protected (owner uid %d, mode %#o; want root's, writable by nobody else): refusing to trust it", path, st.Uid, st.Mode&0o7777)
	}
	var out [][]string
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.SplitN(line, "\t", n); len(f) == n {
			out = append(out, f)
		}
	}
	return out, nil
}

// writeRecord replaces a record of dir with lines, durably (the file and
// its directory are fsynced), or removes it when there are none. A field
// with a tab or newline is refused. The caller holds Serialize.
func writeRecord(dir, file string, lines [][]string) error {
	path := filepath.Join(dir, file)
	if len(lines) == 0 {
		err := os.Remove(path)
		if err != nil && !os.IsNotExist(err) {
			return sdkerr.Wrap(err, sdkerr.Internal, "remove %s: %v", path, err)
		}
		return nil
	}
	var buf bytes.Buffer
	for _, f := range lines {
		for _, v := range f {
			if strings.ContainsAny(v, "\t\n") {
				return sdkerr.Invalid("name", "%q: a tab or newline cannot be recorded", v)
			}
		}
		buf.WriteString(strings.Join(f, "\t") + "\n")
	}
	if err := makeRecordDir(filepath.Dir(path)); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, buf.Bytes(), os.Geteuid(), os.Getegid(), 0o600, true)
}

// makeRecordDir makes the record's directory when it is missing (0755,
// the parent fsynced so the entry survives a crash); an existing one is
// left as it is.
func makeRecordDir(dir string) error {
	parent, err := fsutil.OpenDirNoFollow(filepath.Dir(dir))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	err = unix.Mkdirat(parent, filepath.Base(dir), 0o755)
	switch {
	case errors.Is(err, unix.EEXIST):
		return nil
	case err != nil:
		return sdkerr.Wrap(err, sdkerr.Internal, "mkdir %s: %v", dir, err)
	}
	if err := unix.Fsync(parent); err != nil {
		return sdkerr.Wrap(err, sdkerr.Internal, "fsync %s: %v", filepath.Dir(dir), err)
	}
	return nil
}

// DeletableUser is ManagedUser for a delete: besides the managed accounts
// it lets through an account on the pending record with the same uid, in
// the policy's range: one the plugin made and could not yet put in the
// marker group. Root is never deletable, whatever the record says.
func (j *Judge) DeletableUser(name string, pending map[string]Pending) (accounts.User, error) {
	u, err := j.ManagedUser(name)
	if sdkerr.Is(err, sdkerr.PermissionDenied) && u.UID != 0 && j.P.UIDAllowed(u.UID) {
		if p, ok := pending[name]; ok && p.UID == u.UID {
			return u, nil
		}
	}
	return u, err
}
