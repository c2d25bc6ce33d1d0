package btrfsvol

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// DeleteVolume removes the subvolume at path and its qgroup, and the
// temporary subvolumes a create of path killed midway left beside it. A
// missing path is success; a plain directory is refused, so this never
// removes a tree file by file.
func (v *Volumes) DeleteVolume(ctx context.Context, path string) error {
	if err := pathArg(path); err != nil {
		return err
	}
	if err := v.removeAt(ctx, path, false); err != nil {
		return err
	}
	return v.sweepTemps(ctx, path)
}

// sweepTemps removes the temporary subvolumes of creates of path that
// were killed before their rename (".<name>.creating-<random>", a name
// only this plugin makes, in a directory only root writes): the host's
// rollback of such a create deletes the volume, and nothing of it may
// stay.
func (v *Volumes) sweepTemps(ctx context.Context, path string) error {
	dirfd, base, err := v.Fence.OpenParent(path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	names, err := osutil.ReadDirNames(dirfd)
	if err != nil {
		return fail(err, "list %s", filepath.Dir(path))
	}
	prefix := "." + base + ".creating-"
	for _, name := range names {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		full := filepath.Join(filepath.Dir(path), name)
		info, ok, err := v.lookupSubvol(ctx, dirfd, name, full)
		if err == nil && ok {
			err = v.remove(ctx, dirfd, name, info.ID, full)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteSnapshot removes the snapshot at path and its qgroup; it refuses a
// subvolume that is not a snapshot, so it cannot remove a home.
func (v *Volumes) DeleteSnapshot(ctx context.Context, path string) error {
	if err := pathArg(path); err != nil {
		return err
	}
	return v.removeAt(ctx, path, true)
}

func (v *Volumes) removeAt(ctx context.Context, path string, snapshot bool) error {
	dirfd, base, err := v.Fence.OpenParent(path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	info, ok, err := v.lookupSubvol(ctx, dirfd, base, path)
	if err != nil || !ok {
		return err
	}
	if snapshot && info.ParentUUID == "" {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is a subvolume, not a snapshot; DeleteVolume removes volumes", path)
	}
	return v.remove(ctx, dirfd, base, info.ID, path)
}

// remove deletes subvolume name in dirfd (id, at the absolute path full),
// then its qgroup and its group. Subvolumes a user made inside it go
// first.
func (v *Volumes) remove(ctx context.Context, dirfd int, name string, id uint64, full string) error {
	err := v.B.DeleteSubvolume(ctx, dirfd, name)
	if errors.Is(err, unix.ENOTEMPTY) {
		if err = v.removeNested(ctx, full, id); err == nil {
			err = v.B.DeleteSubvolume(ctx, dirfd, name)
		}
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fail(err, "delete subvolume %s", full)
	}
	gone, err := v.dropQgroup(ctx, dirfd, id, full, true)
	if err != nil {
		return err
	}
	// The group is empty once the kernel dropped its members' qgroups;
	// when the volume's own outlived the wait, one try without waiting
	// again, and the kernel's cleaner or the next delete finishes it.
	if _, err := v.dropQgroup(ctx, dirfd, volumeGroup(id), full, gone); err != nil {
		return err
	}
	// Dropping a subvolume's qgroup can leave the kernel's accounting
	// inconsistent, and then no user's limit holds: repair it here, as
	// setting a limit does, rather than leave it to the next create.
	v.ensureAccounting(ctx, dirfd)
	return nil
}

// removeNested deletes the subvolumes below the subvolume id at full
// (users may make their own), deepest first, as the kernel refuses to
// delete a subvolume that holds another. Each is found by its path below
// full, opened without following a symlink and checked to be the
// subvolume listed before it is deleted.
func (v *Volumes) removeNested(ctx context.Context, full string, id uint64) error {
	fd, err := v.Fence.OpenDir(full)
	if err != nil {
		return err
	}
	nested, err := v.B.Nested(ctx, fd, id)
	unix.Close(fd)
	if err != nil {
		return fail(err, "list the subvolumes inside %s", full)
	}
	sort.Slice(nested, func(i, j int) bool { return strings.Count(nested[i].Path, "/") > strings.Count(nested[j].Path, "/") })
	for _, e := range nested {
		if err := v.removeListed(ctx, filepath.Join(full, e.Path), e.ID); err != nil {
			return err
		}
	}
	return nil
}

// removeListed removes the subvolume at p if it is still subvolume id.
func (v *Volumes) removeListed(ctx context.Context, p string, id uint64) error {
	dirfd, base, err := v.Fence.OpenParent(p)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	info, ok, err := v.lookupSubvol(ctx, dirfd, base, p)
	if err != nil || !ok || info.ID != id {
		return err
	}
	return v.remove(ctx, dirfd, base, id, p)
}

// dropQgroup destroys qgroup q and reports whether it is gone. Newer
// kernels refuse (EBUSY) while the cleaner still drops the deleted
// subvolume (a group: while it has members), and remove a subvolume's
// qgroup themselves once it is done; older ones keep a stale qgroup
// forever unless it is destroyed. So: retry with backoff for QgroupWait
// (when wait), then leave it to the kernel with a warning.
func (v *Volumes) dropQgroup(ctx context.Context, fd int, q uint64, full string, wait bool) (bool, error) {
	deadline := time.Now()
	if wait {
		deadline = deadline.Add(v.QgroupWait)
	}
	pause := 2 * time.Millisecond
	for {
		err := v.B.DestroyQgroup(ctx, fd, q)
		if !errors.Is(err, ErrQgroupBusy) {
			return err == nil, fail(err, "destroy qgroup %s of %s", qgroupName(q), full)
		}
		if time.Now().Add(pause).After(deadline) {
			if wait {
				v.warn("qgroup still busy after deleting the subvolume; the kernel removes it when its cleaner is done",
					"path", full, "qgroup", qgroupName(q))
			}
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fail(ctx.Err(), "wait for qgroup %s of %s", qgroupName(q), full)
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// discard removes a temporary subvolume after a failed create, even when
// the caller's context is what failed.
func (v *Volumes) discard(ctx context.Context, dirfd int, name, full string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.QgroupWait+10*time.Second)
	defer cancel()
	info, ok, err := v.lookupSubvol(ctx, dirfd, name, full)
	if err == nil && ok {
		err = v.remove(ctx, dirfd, name, info.ID, full)
	}
	if err != nil {
		v.warn("cannot remove the temporary subvolume of a failed create", "name", name, "error", err)
	}
}

// SetQuota sets the volume's limit (0 removes it) and brings every
// subvolume inside it under that limit. A limit below what the volume
// already holds is refused. The change goes through the volume's parent
// directory, so raising or removing a limit works however full the
// volume is.
func (v *Volumes) SetQuota(ctx context.Context, path string, quotaBytes uint64) (volumes.Volume, error) {
	if err := pathArg(path); err != nil {
		return volumes.Volume{}, err
	}
	dirfd, base, err := v.Fence.OpenParent(path)
	if err != nil {
		return volumes.Volume{}, err
	}
	defer unix.Close(dirfd)
	fd, info, err := v.openSubvolAt(ctx, dirfd, base, path)
	if err != nil {
		return volumes.Volume{}, err
	}
	defer unix.Close(fd)
	if err := v.limit(ctx, dirfd, fd, info.ID, quotaBytes, false); err != nil {
		return volumes.Volume{}, fail(err, "set quota of %s", path)
	}
	return v.volume(ctx, path, fd, info.ID, true)
}

// GetUsage reports the volume's limit, referenced bytes and owner.
func (v *Volumes) GetUsage(ctx context.Context, path string) (volumes.Volume, error) {
	if err := pathArg(path); err != nil {
		return volumes.Volume{}, err
	}
	fd, info, err := v.openSubvol(ctx, path)
	if err != nil {
		return volumes.Volume{}, err
	}
	defer unix.Close(fd)
	vol, err := v.volume(ctx, path, fd, info.ID, true)
	if err != nil {
		return volumes.Volume{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return volumes.Volume{}, fail(err, "stat %s", path)
	}
	vol.Owner = &volumes.Owner{UID: st.Uid, GID: st.Gid, Mode: st.Mode & 0o7777}
	return vol, nil
}
