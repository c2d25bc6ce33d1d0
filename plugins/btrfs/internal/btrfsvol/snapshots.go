package btrfsvol

import (
	"context"
	"errors"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// snapshotDirMode keeps snapshot directories the plugin makes closed to
// users: a snapshot of one home must not be browsable by another user.
const snapshotDirMode = 0o700

// Snapshot snapshots spec.Source at spec.Dest, making Dest's missing
// parents (root-owned, 0700). An existing snapshot of the same source and
// read-only flag at Dest is success.
func (v *Volumes) Snapshot(ctx context.Context, spec volumes.SnapshotSpec) (volumes.Snapshot, error) {
	if err := volumes.ValidateSnapshotSpec(spec); err != nil {
		return volumes.Snapshot{}, err
	}
	if err := twoElements(spec.Dest); err != nil {
		return volumes.Snapshot{}, err
	}
	if _, err := v.Fence.Below("dest", spec.Dest); err != nil {
		return volumes.Snapshot{}, err
	}
	if within(spec.Dest, spec.Source) {
		return volumes.Snapshot{}, sdkerr.Invalid("dest", "%q is inside the volume it would snapshot", spec.Dest)
	}
	srcfd, src, err := v.openSubvol(ctx, spec.Source)
	if err != nil {
		return volumes.Snapshot{}, err
	}
	defer unix.Close(srcfd)
	dirfd, err := v.mkdirAllBeneath(filepath.Dir(spec.Dest))
	if err != nil {
		return volumes.Snapshot{}, err
	}
	defer unix.Close(dirfd)
	base := filepath.Base(spec.Dest)
	if snap, ok, err := v.existingSnapshot(ctx, dirfd, base, spec, src); ok || err != nil {
		return snap, err
	}
	if err := v.B.Snapshot(ctx, srcfd, dirfd, base, spec.ReadOnly); err != nil {
		return volumes.Snapshot{}, fail(err, "snapshot %s at %s", spec.Source, spec.Dest)
	}
	// Under full qgroups a snapshot of a volume in a group, taken outside
	// that group, leaves the accounting inconsistent: no limit holds
	// until a rescan.
	v.ensureAccounting(ctx, dirfd)
	snap, ok, err := v.existingSnapshot(ctx, dirfd, base, spec, src)
	if err == nil && !ok {
		err = sdkerr.Errorf(sdkerr.Internal, "snapshot %s vanished right after it was taken", spec.Dest)
	}
	return snap, err
}

// existingSnapshot inspects Dest: ok when it is the snapshot asked for,
// AlreadyExists when something else is there.
func (v *Volumes) existingSnapshot(ctx context.Context, dirfd int, base string, spec volumes.SnapshotSpec, src SubvolInfo) (volumes.Snapshot, bool, error) {
	fd, err := openEntry(dirfd, base, spec.Dest)
	if err != nil || fd < 0 {
		return volumes.Snapshot{}, false, err
	}
	defer unix.Close(fd)
	info, err := v.B.SubvolInfo(ctx, fd)
	if errors.Is(err, ErrNotSubvolume) {
		return volumes.Snapshot{}, false, sdkerr.Errorf(sdkerr.AlreadyExists, "%s exists and is not a snapshot", spec.Dest)
	} else if err != nil {
		return volumes.Snapshot{}, false, fail(err, "inspect %s", spec.Dest)
	}
	if info.ParentUUID != src.UUID || info.ReadOnly != spec.ReadOnly {
		return volumes.Snapshot{}, false, sdkerr.Errorf(sdkerr.AlreadyExists,
			"%s exists and is not a %s snapshot of %s", spec.Dest, roWord(spec.ReadOnly), spec.Source)
	}
	return volumes.Snapshot{Path: spec.Dest, Source: spec.Source, ReadOnly: info.ReadOnly, Created: info.Created.Unix()}, true, nil
}

func roWord(ro bool) string {
	if ro {
		return "read-only"
	}
	return "writable"
}

// ListSnapshots lists the snapshots of the volume at path: every
// subvolume of the filesystem whose parent UUID is the volume's UUID and
// that is reachable below the mount holding path, oldest first.
func (v *Volumes) ListSnapshots(ctx context.Context, path string) ([]volumes.Snapshot, error) {
	if err := pathArg(path); err != nil {
		return nil, err
	}
	fd, src, err := v.openSubvol(ctx, path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	m, err := mountOf(path)
	if err != nil || m.FSType != "btrfs" {
		return nil, sdkerr.Errorf(sdkerr.FailedPrecondition, "cannot find the btrfs mount holding %s (%v)", path, err)
	}
	entries, err := v.B.Subvolumes(ctx, fd)
	if err != nil {
		return nil, fail(err, "list subvolumes of %s", m.Point)
	}
	out := []volumes.Snapshot{}
	for _, e := range entries {
		if e.ParentUUID != src.UUID {
			continue
		}
		if snap, ok := v.snapshotAt(ctx, m, e, path); ok {
			out = append(out, snap)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created < out[j].Created
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// snapshotAt opens a listed snapshot where the mount exposes it and
// checks it is still the subvolume listed.
func (v *Volumes) snapshotAt(ctx context.Context, m mount, e SubvolEntry, source string) (volumes.Snapshot, bool) {
	p, ok := m.absPath(e.Path)
	if !ok {
		return volumes.Snapshot{}, false
	}
	fd, err := v.Fence.OpenDir(p)
	if err != nil {
		return volumes.Snapshot{}, false // gone, or outside the fence: not listed
	}
	defer unix.Close(fd)
	info, err := v.B.SubvolInfo(ctx, fd)
	if err != nil || info.UUID != e.UUID {
		return volumes.Snapshot{}, false
	}
	return volumes.Snapshot{Path: p, Source: source, ReadOnly: info.ReadOnly, Created: info.Created.Unix()}, true
}

// mkdirAllBeneath opens dir, a root of the fence or beneath one, making
// its missing elements below the root root-owned with snapshotDirMode,
// never following a symlink.
func (v *Volumes) mkdirAllBeneath(dir string) (int, error) {
	fd, err := v.Fence.OpenDir(dir)
	if !sdkerr.Is(err, sdkerr.NotFound) || v.Fence.IsRoot(dir) {
		return fd, err
	}
	pfd, err := v.mkdirAllBeneath(filepath.Dir(dir))
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	base := filepath.Base(dir)
	if err := unix.Mkdirat(pfd, base, snapshotDirMode); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fail(err, "mkdir %s", dir)
	}
	fd, err = unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fail(err, "open %s", dir)
	}
	return fd, nil
}

// EnsureDir makes or repairs a directory inside a volume. The fence
// applies the permission bits only (no setuid, setgid or sticky).
func (v *Volumes) EnsureDir(_ context.Context, path string, owner volumes.Owner) error {
	if err := volumes.ValidatePlacement(path, nil, owner); err != nil {
		return err
	}
	return v.Fence.EnsureDir(path, owner.UID, owner.GID, owner.Mode)
}

// WriteFile places a file inside a volume atomically; under
// volumes.DeferSync without fsyncs, which the caller's Sync makes up for.
func (v *Volumes) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	if err := volumes.ValidatePlacement(path, data, owner); err != nil {
		return err
	}
	return v.Fence.WriteFile(path, data, owner.UID, owner.GID, owner.Mode, !volumes.SyncDeferred(ctx))
}

// Sync fsyncs each path in order (see volumes.Volumes.Sync).
func (v *Volumes) Sync(_ context.Context, paths []string) error {
	if err := volumes.ValidateSync(paths); err != nil {
		return err
	}
	return v.Fence.Sync(paths)
}
