package posixacl

import (
	"context"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"slices"
	"sync"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// PosixACL serves the acl concern with POSIX ACLs. The rules it keeps:
//
//   - Grant and Revoke act like setfacl -m and -x (entries matched by tag
//     and qualifier, kept in kernel order, the mask recomputed as the
//     union of the group class unless the request names the mask), and
//     write only when something changed.
//   - Nothing outside the fence is touched: the path must lie beneath a
//     root of the policy (else PermissionDenied), named entries may name
//     only managed users and groups or the driver account (fsutil.FenceACL
//     judges them), and a file with more than one hard link that no
//     managed account owns is refused (skipped below a recursive grant).
//   - Nothing is followed through a symlink: the path is resolved beneath
//     its root without following one, a symlink at it is
//     FailedPrecondition, and a recursive grant skips the symlinks below
//     it (setfacl -R -P), never enters an .ssh directory and never crosses
//     into a mount.
//   - Default entries need a directory; a recursive grant gives them to the
//     directories below and the access entries to everything.
//   - Guarded paths (home directories, .ssh, authorized_keys; see
//     aclfs.Guard) never get write for anyone but their owner: such a grant
//     is FailedPrecondition on the path itself and skipped below it.
//   - A revoke never widens access: the mask may only shrink, and revoking
//     the mask narrows the owning group to it. Revoking user_obj, group_obj
//     or other of the access ACL is InvalidArgument (they are the mode
//     bits); revoking one of them from the default ACL removes the whole
//     default ACL (setfacl -k). A revoke on a missing path succeeds.
type PosixACL struct {
	Guard aclfs.Guard

	// mu serializes the read-modify-write of Grant and Revoke, so two
	// concurrent calls on one path never lose an entry.
	mu sync.Mutex
}

var _ acl.ACL = (*PosixACL)(nil)

// acls is a node's pair of ACLs: access always (from the mode bits when
// there is no attribute), default for directories (empty when none).
type acls struct {
	access, def []entry
}

func readACLs(n *aclfs.Node) (acls, error) {
	var a acls
	var err error
	if a.access, err = readXattr(n, xattrAccess); err != nil {
		return a, err
	}
	if a.access == nil {
		a.access = fromMode(n.Mode())
	}
	if n.IsDir() {
		a.def, err = readXattr(n, xattrDefault)
	}
	return a, err
}

// write stores what changed from old to next. A minimal access ACL is
// written as mode bits where the filesystem has no ACLs.
func write(n *aclfs.Node, old, next acls) error {
	if !slices.Equal(old.access, next.access) {
		err := writeXattr(n, xattrAccess, next.access)
		if sdkerr.Is(err, sdkerr.FailedPrecondition) && minimal(next.access) {
			err = n.Chmod(n.Mode()&^0o777 | modeBits(next.access))
		}
		if err != nil {
			return err
		}
	}
	if !slices.Equal(old.def, next.def) {
		return writeXattr(n, xattrDefault, next.def)
	}
	return nil
}

func (p *PosixACL) Grant(_ context.Context, path string, entries []acl.Entry, recursive bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := aclfs.CheckRequest(path, entries); err != nil {
		return err
	}
	c, err := resolve(entries, false)
	if err != nil {
		return err
	}
	root, err := p.Guard.Open(path)
	if err != nil {
		return err
	}
	defer root.Close()
	if len(c.def) > 0 && !root.IsDir() {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a directory; only directories have default entries", path)
	}
	if !recursive {
		return p.grantNode(root, c, true)
	}
	return root.Walk(func(n *aclfs.Node) error { return p.grantNode(n, c, n == root) }, aclfs.Enter)
}

// grantNode applies c to one node. top is the path the request named: a
// guarded node there is refused, below it skipped.
func (p *PosixACL) grantNode(n *aclfs.Node, c changes, top bool) error {
	if err := p.Guard.Changeable(n); err != nil {
		if top {
			return err
		}
		hclog.Default().Warn("recursive grant skipped a path the fence keeps", "path", n.Path, "error", err)
		return nil
	}
	old, err := readACLs(n)
	if err != nil {
		return err
	}
	next := old
	if len(c.access) > 0 {
		next.access = grant(old.access, c.access)
	}
	if len(c.def) > 0 && n.IsDir() {
		next.def = grantDefault(old.def, next.access, c.def)
	}
	reason := ""
	if (len(c.access) > 0 && writes(next.access)) || (len(c.def) > 0 && writes(next.def)) {
		reason = p.Guard.Reason(n) // only when it matters: it may read passwd
	}
	if reason != "" {
		if top {
			return aclfs.Refuse(n, "a grant of write", reason)
		}
		hclog.Default().Warn("recursive grant skipped a guarded path", "path", n.Path, "reason", reason)
		return nil
	}
	return write(n, old, next)
}

func (p *PosixACL) Revoke(_ context.Context, path string, entries []acl.Entry) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := aclfs.CheckRequest(path, entries); err != nil {
		return err
	}
	c, err := resolve(entries, true)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Default && (e.Tag == acl.TagUserObj || e.Tag == acl.TagGroupObj || e.Tag == acl.TagOther) {
			return sdkerr.Invalid("entries.tag", "the access entry %s cannot be revoked: it is part of the mode bits", e.Tag)
		}
	}
	n, err := p.Guard.Open(path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil // nothing is left to hold the entries
	} else if err != nil {
		return err
	}
	defer n.Close()
	if err := p.Guard.Changeable(n); err != nil {
		return err
	}
	old, err := readACLs(n)
	if err != nil {
		return err
	}
	next, ok := old, false
	if next.access, ok = revoke(old.access, c.access); !ok {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s: the mask cannot be revoked while named entries remain", path)
	}
	if next.def, ok = revokeDefault(old.def, c.def); !ok {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s: the default mask cannot be revoked while named default entries remain", path)
	}
	return write(n, old, next)
}

// revokeDefault is revoke on a default ACL, where removing a base entry
// removes the default ACL as a whole.
func revokeDefault(def, mods []entry) ([]entry, bool) {
	if len(def) == 0 {
		return def, true
	}
	for _, m := range mods {
		if m.Tag == tagUserObj || m.Tag == tagGroupObj || m.Tag == tagOther {
			return nil, true
		}
	}
	return revoke(def, mods)
}

func (p *PosixACL) Get(_ context.Context, path string) (acl.List, error) {
	if err := check.AbsPath("path", path); err != nil {
		return acl.List{}, err
	}
	n, err := p.Guard.Open(path)
	if err != nil {
		return acl.List{}, err
	}
	defer n.Close()
	a, err := readACLs(n)
	if err != nil {
		return acl.List{}, err
	}
	return acl.List{Access: toContract(a.access, false), Default: toContract(a.def, true)}, nil
}

func (p *PosixACL) SetOwnership(_ context.Context, path string, uid, gid, mode uint32) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if err := check.Mode("mode", mode); err != nil {
		return err
	}
	return p.Guard.SetOwnership(path, uid, gid, mode)
}

// Forget has nothing to drop: posixacl keeps no record of its grants; the
// entries live on the files, and those in a user's home go with it.
func (p *PosixACL) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, u.Validate()
}
