package dirvol

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Snapshot is refused: a copy of a home is not a snapshot (not atomic,
// not cheap), and pretending would mislead the host.
func (v Volumes) Snapshot(_ context.Context, spec volumes.SnapshotSpec) (volumes.Snapshot, error) {
	if err := volumes.ValidateSnapshotSpec(spec); err != nil {
		return volumes.Snapshot{}, err
	}
	return volumes.Snapshot{}, sdkerr.Errorf(sdkerr.FailedPrecondition,
		"snapshots unsupported by the dir plugin (%s is a plain directory; use a btrfs home root for snapshots)", spec.Source)
}

// ListSnapshots lists none: the plugin never takes any. The volume must
// exist.
func (v Volumes) ListSnapshots(_ context.Context, path string) ([]volumes.Snapshot, error) {
	if err := check.AbsPath("path", path); err != nil {
		return nil, err
	}
	fd, err := v.Fence.OpenDir(path)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return []volumes.Snapshot{}, nil
}

// DeleteSnapshot succeeds on a missing path and refuses anything else: no
// snapshot of this plugin can be there.
func (v Volumes) DeleteSnapshot(_ context.Context, path string) error {
	if err := pathArg(path); err != nil {
		return err
	}
	dirfd, base, err := v.Fence.OpenParent(path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return sysErr(err, "stat %s", path)
	}
	return sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is not a snapshot: the dir plugin takes none; DeleteVolume removes volumes", path)
}

// pathArg checks a path argument as the sdk's adapters do, and refuses a
// home root itself.
func pathArg(p string) error {
	if err := check.AbsPath("path", p); err != nil {
		return err
	}
	return twoElements(p)
}
