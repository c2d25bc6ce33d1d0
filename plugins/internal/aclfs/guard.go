package aclfs

import (
	"fmt"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Guard decides which paths must stay writable by their owner only. sshd
// (StrictModes, on by default) refuses a user's keys when authorized_keys,
// or any directory from it up to the home, is writable by group or other;
// it looks at the mode bits, whose group class is the ACL mask when there
// is one. So on a guarded path no entry but the owner's may carry write:
// not a named user or group, not the owning group, not the mask, not
// other, and not the default entries of a guarded directory either (they
// would make a later `mkdir ~/.ssh` group-writable). A grant or a mode
// that breaks this is refused with FailedPrecondition.
//
// Guarded are: a home directory (a directory directly under a home root
// of the policy, or the passwd home of its owner), anything named or inside ".ssh", and
// any file named authorized_keys or authorized_keys2. Recursive changes do
// not descend into .ssh at all: it holds private keys, which no grant on
// a parent directory should reach.
//
// The Guard also holds the plugin's fence: every path is opened beneath
// one of the policy's roots, and what is changed must be Changeable and
// given only a managed owner (fsutil.Fence).
type Guard struct {
	Fence *fsutil.Fence
	// HomeOf returns the passwd home of a uid, "" when unknown.
	HomeOf func(uid uint32) string
}

// NewGuard guards within the fence f and looks homes up in the user
// database.
func NewGuard(f *fsutil.Fence) Guard {
	return Guard{Fence: f, HomeOf: lookupHome}
}

func lookupHome(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return ""
	}
	return filepath.Clean(u.HomeDir)
}

// Reason says why only the owner may write to n; "" when others may.
func (g Guard) Reason(n *Node) string {
	base := filepath.Base(n.Path)
	switch {
	case InSSHDir(n.Path):
		return "it is or is inside an .ssh directory"
	case base == "authorized_keys" || base == "authorized_keys2":
		return "it is an authorized_keys file"
	case n.IsDir() && slices.Contains(g.Fence.HomeRoots(), filepath.Dir(n.Path)):
		return "it is a home directory under " + filepath.Dir(n.Path)
	case n.IsDir() && g.HomeOf != nil && g.HomeOf(n.Stat.Uid) == n.Path:
		return "it is its owner's home directory"
	}
	return ""
}

// InSSHDir reports whether path is an .ssh directory or inside one.
func InSSHDir(path string) bool {
	for _, elem := range strings.Split(path, "/") {
		if elem == ".ssh" {
			return true
		}
	}
	return false
}

// Enter is the Walk filter of recursive changes: they never enter an
// .ssh directory below the path they were asked for.
func Enter(n *Node) bool { return filepath.Base(n.Path) != ".ssh" }

// Refuse is the error for a change that would let others write to a
// guarded path.
func Refuse(n *Node, what, reason string) error {
	return sdkerr.Errorf(sdkerr.FailedPrecondition,
		"refusing %s on %s: only the owner may write there, because %s (sshd's StrictModes would reject the user's keys)",
		what, n.Path, reason)
}

// CheckMode refuses a mode with group or other write on a guarded node.
func (g Guard) CheckMode(n *Node, mode uint32) error {
	if mode&0o022 == 0 {
		return nil
	}
	if reason := g.Reason(n); reason != "" {
		return Refuse(n, fmt.Sprintf("mode %#o", mode), reason)
	}
	return nil
}

// Changeable refuses to change what the fence never changes (see
// fsutil.Fence.Changeable): a hard-linked file no managed account owns.
func (g Guard) Changeable(n *Node) error { return g.Fence.Changeable(n.Path, &n.Stat) }

// SetOwnership chowns and chmods path without following a symlink: the
// shared SetOwnership of both acl plugins. The owner and mode must pass
// the fence for what the path holds (a directory or a file), judged on
// the descriptor that is then changed. The chmod comes after the chown,
// which clears setuid and setgid.
func (g Guard) SetOwnership(path string, uid, gid, mode uint32) error {
	n, err := g.Open(path)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := g.Changeable(n); err != nil {
		return err
	}
	if err := g.Fence.Owner(path, uid, gid, mode, n.IsDir()); err != nil {
		return err
	}
	if err := g.CheckMode(n, mode); err != nil {
		return err
	}
	if err := n.Chown(uid, gid); err != nil {
		return err
	}
	return n.Chmod(mode)
}
