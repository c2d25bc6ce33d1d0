package mode

import (
	"context"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"os"
	"sync"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Mode serves the acl concern with chmod and chown only. Its rules:
//
//   - Grant takes user_obj, group_obj and other entries and sets the
//     matching permission bits (setuid, setgid and sticky are kept). A
//     named user or group, a mask or a default entry has no mode-bit
//     equivalent: the whole request is refused with FailedPrecondition
//     ("ACLs unsupported by the mode plugin") before anything changes.
//   - Revoke has nothing to remove: named, mask and default entries never
//     exist here, so revoking them succeeds; revoking user_obj, group_obj
//     or other is InvalidArgument, as with posixacl.
//   - Get reports the three entries the mode bits stand for.
//   - As posixacl: nothing outside the policy's roots is touched, no
//     symlink is followed, recursion skips symlinks, never enters .ssh or a
//     mount, and skips hard-linked files no managed account owns, and
//     guarded paths (aclfs.Guard) never get group or other write.
type Mode struct {
	Guard aclfs.Guard

	// mu serializes the read-modify-write of Grant, so two concurrent
	// grants on one path never lose a change.
	mu sync.Mutex
}

var _ acl.ACL = (*Mode)(nil)

// errNoACL is the answer to what only POSIX ACLs can express.
func errNoACL(e acl.Entry) error {
	what := string(e.Tag)
	if e.Default {
		what = "default " + what
	}
	return sdkerr.Errorf(sdkerr.FailedPrecondition, "ACLs unsupported by the mode plugin: a %s entry needs POSIX ACLs", what)
}

func (m *Mode) Grant(_ context.Context, path string, entries []acl.Entry, recursive bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := aclfs.CheckRequest(path, entries); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Default || (e.Tag != acl.TagUserObj && e.Tag != acl.TagGroupObj && e.Tag != acl.TagOther) {
			return errNoACL(e)
		}
	}
	root, err := m.Guard.Open(path)
	if err != nil {
		return err
	}
	defer root.Close()
	apply := func(n *aclfs.Node) error { return m.grantNode(n, entries, n == root) }
	if !recursive {
		return apply(root)
	}
	return root.Walk(apply, aclfs.Enter)
}

func (m *Mode) grantNode(n *aclfs.Node, entries []acl.Entry, top bool) error {
	mode := aclfs.ApplyModeEntries(n.Mode(), entries)
	if mode == n.Mode() {
		return nil
	}
	err := m.Guard.Changeable(n)
	if err == nil {
		err = m.Guard.CheckMode(n, mode)
	}
	if err != nil {
		if top {
			return err
		}
		hclog.Default().Warn("recursive grant skipped a guarded path", "path", n.Path, "error", err)
		return nil
	}
	return n.Chmod(mode)
}

func (m *Mode) Revoke(_ context.Context, path string, entries []acl.Entry) error {
	if err := aclfs.CheckRequest(path, entries); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Default && (e.Tag == acl.TagUserObj || e.Tag == acl.TagGroupObj || e.Tag == acl.TagOther) {
			return sdkerr.Invalid("entries.tag", "the access entry %s cannot be revoked: it is part of the mode bits", e.Tag)
		}
	}
	return nil
}

func (m *Mode) Get(_ context.Context, path string) (acl.List, error) {
	if err := check.AbsPath("path", path); err != nil {
		return acl.List{}, err
	}
	n, err := m.Guard.Open(path)
	if err != nil {
		return acl.List{}, err
	}
	defer n.Close()
	return acl.List{Access: aclfs.ModeEntries(n.Mode())}, nil
}

func (m *Mode) SetOwnership(_ context.Context, path string, uid, gid, mode uint32) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if err := check.Mode("mode", mode); err != nil {
		return err
	}
	return m.Guard.SetOwnership(path, uid, gid, mode)
}

// Probe is ready wherever /proc is mounted: chmod and chown work on every
// filesystem, and the plugin reaches the inodes it holds through
// /proc/self/fd.
func (m *Mode) Probe(context.Context) identity.ProbeResult {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return identity.ProbeResult{Reason: "/proc/self/fd is not usable: " + err.Error()}
	}
	return identity.ProbeResult{Ready: true}
}

// Forget has nothing to drop: mode keeps no state of its own; owners and
// modes live on the files, and those of a user's home go with it.
func (m *Mode) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, u.Validate()
}
