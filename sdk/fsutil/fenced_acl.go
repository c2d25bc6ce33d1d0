package fsutil

import (
	"context"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// FenceACL wraps an acl implementation so every call is judged before it
// runs: the path strictly beneath a root; a Grant's named entries may
// name only a managed user or group, or the policy's driver account, and
// reach next with numeric qualifiers resolved from the same account files
// the fence judged them by (so a name server cannot answer differently);
// SetOwnership's owner passes f.Owner for what is at the path now (a
// directory or a file). Revoke removes access only, so its entries may
// name anyone. The implementation still checks what it opens (Changeable,
// and Owner again on the descriptor it holds).
func FenceACL(f *Fence, next acl.ACL) acl.ACL {
	return fencedACL{f: f, next: next}
}

type fencedACL struct {
	f    *Fence
	next acl.ACL
}

func (a fencedACL) Grant(ctx context.Context, path string, entries []acl.Entry, recursive bool) error {
	if err := acl.ValidatePathEntries(path, entries); err != nil {
		return err
	}
	if _, err := a.f.Below("path", path); err != nil {
		return err
	}
	resolved, err := a.f.Qualifiers(entries)
	if err != nil {
		return err
	}
	return a.next.Grant(ctx, path, resolved, recursive)
}

func (a fencedACL) Revoke(ctx context.Context, path string, entries []acl.Entry) error {
	if err := acl.ValidatePathEntries(path, entries); err != nil {
		return err
	}
	if _, err := a.f.Below("path", path); err != nil {
		return err
	}
	return a.next.Revoke(ctx, path, entries)
}

func (a fencedACL) Get(ctx context.Context, path string) (acl.List, error) {
	if err := check.AbsPath("path", path); err != nil {
		return acl.List{}, err
	}
	if _, err := a.f.Below("path", path); err != nil {
		return acl.List{}, err
	}
	return a.next.Get(ctx, path)
}

func (a fencedACL) SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	if err := check.Mode("mode", mode); err != nil {
		return err
	}
	fd, err := a.f.OpenPath(path)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	if err != nil {
		return pathError(path, err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is a symlink or neither a regular file nor a directory; refusing it", path)
	}
	if err := a.f.Changeable(path, &st); err != nil {
		return err
	}
	if err := a.f.Owner(path, uid, gid, mode, st.Mode&unix.S_IFMT == unix.S_IFDIR); err != nil {
		return err
	}
	return a.next.SetOwnership(ctx, path, uid, gid, mode)
}

// Qualifiers checks the named entries of a grant and returns the entries
// with numeric qualifiers: a user entry may name a managed account or the
// policy's driver account, a group entry a managed group (a managed
// user's own group, or one hero_codescalers made, or one nobody outside
// the fence holds yet: policy.Machine.GIDUnclaimed). A name the account
// files do not hold is NotFound; anyone else is PermissionDenied.
func (f *Fence) Qualifiers(entries []acl.Entry) ([]acl.Entry, error) {
	out := make([]acl.Entry, len(entries))
	for i, e := range entries {
		out[i] = e
		if e.Tag != acl.TagUser && e.Tag != acl.TagGroup {
			continue
		}
		id, err := f.qualifier(e.Tag, e.Qualifier)
		if err != nil {
			return nil, err
		}
		out[i].Qualifier = strconv.FormatUint(uint64(id), 10)
	}
	return out, nil
}

func (f *Fence) qualifier(tag acl.Tag, q string) (uint32, error) {
	m, err := f.Machine()
	if err != nil {
		return 0, err
	}
	id, numeric := uint32(0), false
	if n, err := strconv.ParseUint(q, 10, 32); err == nil {
		id, numeric = uint32(n), true
	}
	if tag == acl.TagUser {
		if !numeric {
			var ok bool
			if id, ok = m.UserID(q); !ok {
				return 0, sdkerr.Errorf(sdkerr.NotFound, "user %q does not exist", q)
			}
		}
		driver, hasDriver := m.UserID(f.p.Driver)
		if m.UIDManaged(id) || (hasDriver && id == driver && id != 0) {
			return id, nil
		}
		return 0, sdkerr.Errorf(sdkerr.PermissionDenied,
			"an ACL entry for user %s (uid %d) refused: only managed accounts and the driver account %s may be named", q, id, f.p.Driver)
	}
	if !numeric {
		var ok bool
		if id, ok = m.GroupID(q); !ok {
			return 0, sdkerr.Errorf(sdkerr.NotFound, "group %q does not exist", q)
		}
	}
	if groupOK(m, id) {
		return id, nil
	}
	return 0, sdkerr.Errorf(sdkerr.PermissionDenied,
		"an ACL entry for group %s (gid %d) refused: only managed groups may be named", q, id)
}

// Forget checks the user; what the implementation keeps of it is its own
// to judge.
func (a fencedACL) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	return a.next.Forget(ctx, u)
}
