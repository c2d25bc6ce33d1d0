package shadow

import (
	"context"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// createFresh runs newusers, gpasswd and chpasswd for the planned new
// users, with them on the pending record from before newusers until they
// are in the marker group (settlePending). Whether a user was made is read
// back from the files, not taken from newusers' exit code: a PAM-built
// newusers exits 1 after its commit when PAM refuses the empty passwords
// it was given on purpose.
func (s *Shadow) createFresh(ctx context.Context, b *batch) {
	db, d, err := s.load()
	if err != nil {
		b.fail(b.fresh, err)
		return
	}
	b.fresh = s.ensureMarkers(ctx, b, db, d)
	if len(b.fresh) == 0 {
		return
	}
	if err := s.recordPending(b, d); err != nil {
		b.fail(b.fresh, err)
		return
	}
	defer s.settlePending(b)
	_, nuErr := s.run(ctx, []string{"newusers"}, newusersInput(b, b.fresh, d))
	failpoint.Point("accounts.batch.newusers.after")
	if db, _, err = s.load(); err != nil {
		b.fail(b.fresh, err)
		return
	}
	var made []int
	for _, i := range b.fresh {
		u, err := db.User(b.specs[i].Name)
		switch {
		case err != nil && nuErr != nil:
			b.out[i].Err = nuErr
		case err != nil:
			b.out[i].Err = sdkerr.Errorf(sdkerr.Internal, "newusers exited 0 but did not create %q", b.specs[i].Name)
		default:
			made = append(made, i)
			if b.rmHomes[i] {
				removeEmptyHome(u.Home, u.UID)
			}
		}
	}
	s.finishFresh(ctx, b, made)
}

// recordPending puts the fresh items on the pending record, durably,
// before anything of them is written.
func (s *Shadow) recordPending(b *batch, d etcdb.Defs) error {
	pend, err := etcdb.ReadPending(s.Etc)
	if err != nil {
		return err
	}
	for _, i := range b.fresh {
		p := etcdb.Pending{Name: b.specs[i].Name, UID: b.ids[i][0]}
		if b.rmHomes[i] {
			p.Home = d.Home(b.specs[i])
		}
		pend[p.Name] = p
	}
	return etcdb.WritePending(s.Etc, pend)
}

// settlePending drops from the pending record every fresh item that is in
// the marker group now, or was not made at all (removing the home
// newusers may have made for it); an account made but left outside the
// marker group (chpasswd or gpasswd failed) stays on it, for the host's
// rollback to delete. A record that cannot be rewritten only keeps
// entries longer: they name accounts this plugin made.
func (s *Shadow) settlePending(b *batch) {
	db, _, err := s.load()
	if err != nil {
		return
	}
	pend, err := etcdb.ReadPending(s.Etc)
	if err != nil {
		return
	}
	for _, i := range b.fresh {
		spec := b.specs[i]
		p, ok := pend[spec.Name]
		if !ok || p.UID != b.ids[i][0] {
			continue
		}
		u, err := db.User(spec.Name)
		switch {
		case sdkerr.Is(err, sdkerr.NotFound):
			removeEmptyHome(p.Home, p.UID)
		case err != nil, u.UID != p.UID, !db.IsMember(spec.Name, spec.MarkerGroup):
			continue
		}
		delete(pend, spec.Name)
	}
	_ = etcdb.WritePending(s.Etc, pend)
}

// ensureMarkers creates the marker groups the new users need and returns
// the items whose marker group exists.
func (s *Shadow) ensureMarkers(ctx context.Context, b *batch, db *etcdb.DB, d etcdb.Defs) []int {
	failed := map[string]error{}
	var keep []int
	for _, i := range b.fresh {
		m := b.specs[i].MarkerGroup
		if _, done := failed[m]; !done {
			failed[m] = s.ensureGroup(ctx, db, m, d)
			if failed[m] == nil {
				if db2, _, err := s.load(); err == nil {
					db = db2
				}
			}
		}
		if failed[m] != nil {
			b.out[i].Err = failed[m]
			continue
		}
		keep = append(keep, i)
	}
	return keep
}

// finishFresh sets the group memberships and password fields of the
// users newusers made, and reads them back. The marker group comes first:
// until a user is in it, no call may touch (or delete) the account, and
// until chpasswd runs it stays locked ("!"), which is safe either way.
func (s *Shadow) finishFresh(ctx context.Context, b *batch, made []int) {
	if len(made) == 0 {
		return
	}
	db, _, err := s.load()
	if err != nil {
		b.fail(made, err)
		return
	}
	join := memberships(b.specs, made)
	failed := map[string]error{}
	failpoint.Point("accounts.batch.membership.before")
	for _, g := range joinOrder(join, b.specs[made[0]].MarkerGroup) {
		current := etcdb.SplitList(db.Tables[etcdb.Group].Field(g, 3))
		_, err := s.run(ctx, []string{"gpasswd", "-M", joinMembers(current, join[g]), "--", g}, nil)
		if err != nil {
			for _, n := range join[g] {
				failed[n] = err
			}
		}
	}
	failpoint.Point("accounts.batch.membership.after")
	if _, err := s.run(ctx, []string{"chpasswd", "-e"}, chpasswdInput(names(b.specs, made))); err != nil {
		b.fail(made, err) // the accounts stay locked ("!"): safe, and visible
		return
	}
	if db, _, err = s.load(); err != nil {
		b.fail(made, err)
		return
	}
	for _, i := range made {
		if err := failed[b.specs[i].Name]; err != nil {
			b.out[i].Err = err
			continue
		}
		b.out[i].User, b.out[i].Err = db.User(b.specs[i].Name)
	}
}

// joinOrder is the groups to join, the marker group first, then by name.
func joinOrder(join map[string][]string, marker string) []string {
	out := sortedKeys(join)
	if i := slices.Index(out, marker); i > 0 {
		out = append(append([]string{marker}, out[:i]...), out[i+1:]...)
	}
	return out
}

// removeEmptyHome undoes newusers' mkdir of a home nobody asked for: only
// an empty directory (rmdir) owned by the new user, or by root (newusers
// makes it, then chowns it: a machine that stopped in between), never
// through a symlink. Best effort: a home left behind is harmless and
// visible.
func removeEmptyHome(home string, uid uint32) {
	if home == "" {
		return
	}
	parent, err := fsutil.OpenDirNoFollow(filepath.Dir(home))
	if err != nil {
		return
	}
	defer unix.Close(parent)
	var st unix.Stat_t
	base := filepath.Base(home)
	if unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW) != nil ||
		st.Mode&unix.S_IFMT != unix.S_IFDIR || (st.Uid != uid && st.Uid != 0) {
		return
	}
	_ = unix.Unlinkat(parent, base, unix.AT_REMOVEDIR)
}
