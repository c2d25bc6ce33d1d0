package btrfsvol

import (
	"context"
	"errors"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// limit sets the limit of the volume whose root directory is fd, in
// directory dirfd, with subvolume id id; 0 removes it. The limit goes on
// the volume's group (volumeGroup), which first takes in the volume's
// qgroup and those of the subvolumes inside it. Every qgroup change goes
// through dirfd, never fd: the kernel reserves metadata for it in the
// qgroups of the subvolume the descriptor is in, and a volume over its
// limit would refuse a change of that very limit (EDQUOT).
//
// fresh says the subvolume was just made: there is nothing inside it to
// take in or to measure. Otherwise lowering the limit below what the
// volume holds is refused (FailedPrecondition, see fits), and no limit
// changes.
func (v *Volumes) limit(ctx context.Context, dirfd, fd int, id, bytes uint64, fresh bool) error {
	if bytes == 0 {
		return v.unlimit(ctx, dirfd, id)
	}
	group := volumeGroup(id)
	err := v.B.CreateQgroup(ctx, dirfd, group)
	if errors.Is(err, ErrQuotaDisabled) {
		if err = v.enableQuota(ctx, dirfd); err == nil {
			err = v.B.CreateQgroup(ctx, dirfd, group)
		}
	}
	if err != nil {
		return err
	}
	// Taking the subvolumes in can leave full qgroups' accounting
	// inconsistent (one that shares extents outside the group): repair
	// it whatever follows.
	defer v.ensureAccounting(ctx, dirfd)
	if err := v.cover(ctx, dirfd, fd, id, fresh); err != nil {
		return err
	}
	if !fresh {
		if err := v.fits(ctx, dirfd, id, bytes); err != nil {
			return err
		}
	}
	if err := v.B.SetLimit(ctx, dirfd, group, bytes); err != nil {
		return err
	}
	if !fresh {
		v.dropOwnLimit(ctx, dirfd, id)
	}
	return nil
}

// unlimit clears the group's limit, and a limit left on the volume's own
// qgroup by a version that put it there.
func (v *Volumes) unlimit(ctx context.Context, dirfd int, id uint64) error {
	for _, q := range []uint64{volumeGroup(id), id} {
		err := v.B.SetLimit(ctx, dirfd, q, 0)
		if err != nil && !errors.Is(err, ErrQuotaDisabled) && !errors.Is(err, ErrNoQgroup) {
			return err
		}
	}
	return nil
}

// cover makes the volume's qgroup, and unless fresh those of the
// subvolumes inside it, members of its group.
func (v *Volumes) cover(ctx context.Context, dirfd, fd int, id uint64, fresh bool) error {
	group := volumeGroup(id)
	if fresh {
		return v.B.Relate(ctx, dirfd, id, group, true)
	}
	nested, err := v.B.Nested(ctx, fd, id)
	if err != nil {
		return err
	}
	for _, m := range append([]uint64{id}, subvolIDs(nested)...) {
		parents, err := v.B.Parents(ctx, dirfd, m)
		if err != nil {
			return err
		}
		if !slices.Contains(parents, group) {
			if err := v.B.Relate(ctx, dirfd, m, group, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func subvolIDs(entries []SubvolEntry) []uint64 {
	ids := make([]uint64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// fits refuses to lower the limit of volume id below what its group
// references, as of a transaction commit made just now: the volume would
// be full from the start, and every write into it, the host's own
// included, would fail. Re-applying or raising a limit the volume is
// already over (a user who wrote past it through a subvolume not yet in
// the group) is not lowering it, and goes through: that is how it is
// brought back under its limit. Data still only in the page cache is not
// counted yet, so this catches the plain mistake (1K on a home of
// gigabytes), not a race with a writer; should one slip through, raising
// the limit still works, as it goes through the parent.
func (v *Volumes) fits(ctx context.Context, dirfd int, id, bytes uint64) error {
	if err := commit(dirfd); err != nil {
		v.warn("cannot commit before reading the usage; it may be up to 30 s old", "error", err)
	}
	q, err := v.B.Qgroup(ctx, dirfd, volumeGroup(id))
	if err != nil || q.Referenced <= bytes {
		return err
	}
	current := q.MaxRef
	if own, err := v.B.Qgroup(ctx, dirfd, id); current == 0 && err == nil {
		current = own.MaxRef // a limit set before groups
	}
	if current != 0 && bytes >= current {
		return nil
	}
	return sdkerr.Errorf(sdkerr.FailedPrecondition,
		"a limit of %d bytes is below the %d bytes the volume already holds (with the subvolumes inside it); free space first, or choose a limit of at least %d bytes",
		bytes, q.Referenced, q.Referenced)
}

// dropOwnLimit clears a limit on the volume's own qgroup, where versions
// before groups put it: the group's limit replaces it.
func (v *Volumes) dropOwnLimit(ctx context.Context, dirfd int, id uint64) {
	q, err := v.B.Qgroup(ctx, dirfd, id)
	if err != nil || q.MaxRef == 0 {
		return
	}
	if err := v.B.SetLimit(ctx, dirfd, id, 0); err != nil {
		v.warn("cannot clear the limit of the volume's own qgroup", "qgroup", qgroupName(id), "error", err)
	}
}

// ensureAccounting repairs qgroup accounting the kernel marked
// inconsistent (after a subvolume change raced a rescan, a qgroup
// relation of a member that shares extents, a snapshot of a volume in a
// group under full qgroups, ...): the kernel then skips accounting, so no
// limit holds. A rescan is started and waited for, bounded by RescanWait;
// what cannot be repaired in time is only logged, as the limit is set and
// takes hold when the rescan ends.
func (v *Volumes) ensureAccounting(ctx context.Context, fd int) {
	st, err := v.B.QuotaState(ctx, fd)
	if err != nil || !st.Enabled || !st.Inconsistent && !st.Rescanning {
		if err != nil {
			v.warn("cannot read the qgroup status", "error", err)
		}
		return
	}
	v.quotaMu.Lock()
	defer v.quotaMu.Unlock()
	if st.Inconsistent && !st.Rescanning {
		if err := v.B.StartRescan(ctx, fd); err != nil {
			v.warn("qgroup accounting is inconsistent and a rescan could not start; limits are not enforced", "error", err)
			return
		}
	}
	v.waitRescan(ctx, fd)
	if st, err := v.B.QuotaState(ctx, fd); err == nil && st.Inconsistent {
		v.warn("qgroup accounting is still inconsistent (rescan running); limits hold once it ends")
	}
}

// enableQuota turns quotas on and waits (bounded) for the rescan the
// kernel starts under full qgroups, so usage figures are right from the
// first GetUsage.
func (v *Volumes) enableQuota(ctx context.Context, fd int) error {
	v.quotaMu.Lock()
	defer v.quotaMu.Unlock()
	if err := v.B.EnableQuota(ctx, fd); err != nil {
		return err
	}
	v.waitRescan(ctx, fd)
	return nil
}

// waitRescan waits for a running rescan, at most RescanWait.
func (v *Volumes) waitRescan(ctx context.Context, fd int) {
	wctx, cancel := context.WithTimeout(ctx, v.RescanWait)
	defer cancel()
	if err := v.B.WaitRescan(wctx, fd); err != nil {
		v.warn("qgroup rescan still running; usage figures and limits settle when it ends", "error", err)
	}
}

// volume reads the Volume at path (fd, subvolume id): limit and usage of
// its group, or of its own qgroup when it has no group (no limit was ever
// set, or one was set before groups). full adds what a caller checking
// the volume wants and a create does not: usage counted by walking the
// tree when there are no qgroups, and the subvolumes inside the volume
// that its limit does not cover.
func (v *Volumes) volume(ctx context.Context, path string, fd int, id uint64, full bool) (volumes.Volume, error) {
	vol := volumes.Volume{Path: path, Kind: volumes.KindSubvolume}
	grouped := true
	q, err := v.B.Qgroup(ctx, fd, volumeGroup(id))
	if errors.Is(err, ErrNoQgroup) {
		grouped = false
		q, err = v.B.Qgroup(ctx, fd, id)
	}
	switch {
	case err == nil:
		vol.QuotaBytes, vol.UsedBytes = q.MaxRef, q.Referenced
	case !errors.Is(err, ErrQuotaDisabled) && !errors.Is(err, ErrNoQgroup):
		return volumes.Volume{}, fail(err, "read qgroup of %s", path)
	case full:
		vol.UsedBytes, err = osutil.DiskUsage(fd)
		if err != nil {
			return volumes.Volume{}, fail(err, "count usage of %s", path)
		}
	}
	if full && vol.QuotaBytes > 0 {
		if vol.Uncovered, err = v.uncovered(ctx, path, fd, id, grouped); err != nil {
			return volumes.Volume{}, fail(err, "list the subvolumes inside %s", path)
		}
	}
	return vol, nil
}

// uncovered lists the subvolumes inside the volume that are not members
// of its group (all of them when it has none): what is written there does
// not count against its limit.
func (v *Volumes) uncovered(ctx context.Context, path string, fd int, id uint64, grouped bool) ([]string, error) {
	nested, err := v.B.Nested(ctx, fd, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nested {
		if grouped {
			parents, err := v.B.Parents(ctx, fd, n.ID)
			if err != nil {
				return nil, err
			}
			if slices.Contains(parents, volumeGroup(id)) {
				continue
			}
		}
		out = append(out, filepath.Join(path, n.Path))
	}
	return out, nil
}
