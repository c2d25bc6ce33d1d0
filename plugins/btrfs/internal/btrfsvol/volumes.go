// Package btrfsvol is the volumes concern on btrfs: a user's home is a
// subvolume with a qgroup limit on the bytes it references.
//
// CreateVolume makes the subvolume under a temporary name in the same
// directory (".<name>.creating-<random>"), sets its owner, mode and limit
// there, and renames it into place, so a home appears whole or not at all;
// on any error the temporary subvolume and its qgroup are removed.
//
// A volume's limit is on its group, the level-1 qgroup 1/<subvolume id>,
// whose members are the volume's own qgroup and those of the subvolumes
// made inside it, so nested subvolumes and snapshots count against the
// same limit (see quota.go and the Watcher). Quotas are enabled on the
// filesystem the first time a limit is asked for (simple quotas where the
// kernel has them), and accounting the kernel holds inconsistent (it then
// enforces no limit) is repaired by a rescan whenever a limit is set.
//
// DeleteVolume removes only subvolumes, never a plain directory's tree:
// the volume, the subvolumes its owner made inside it, and their qgroups.
//
// Snapshots go wherever SnapshotSpec.Dest says, on the same filesystem;
// missing parents of Dest are made root-owned 0700 so one user cannot
// browse another's snapshots. The recommended place is
// <home root>/.snapshots/<name>/<UTC timestamp>. ListSnapshots does not
// depend on it: it finds every subvolume whose parent UUID is the volume's
// and that is reachable below the mount holding the volume.
//
// Usage is the qgroup's referenced bytes as of the last transaction
// commit (at most ~30 s old); without quotas it is counted like `du -sx`.
//
// Every path is judged by the plugin's fence (sdk/fsutil) and resolved
// beneath its root without following a symlink, and the backend acts on
// the open descriptors (see Backend).
package btrfsvol

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Volumes serves the volumes concern on a btrfs backend.
type Volumes struct {
	B Backend
	// Fence is the plugin's fence: every path is opened through it,
	// beneath a root of the policy, and only managed owners are given.
	Fence *fsutil.Fence
	// RescanWait bounds the wait for the qgroup rescan that enabling
	// quotas starts; the limit applies either way. Default 10s.
	RescanWait time.Duration
	// QgroupWait bounds the wait for the kernel to release a deleted
	// subvolume's qgroup before it is destroyed. Default 10s.
	QgroupWait time.Duration
	// Warn receives what went wrong without failing the call.
	Warn func(msg string, args ...any)

	quotaMu sync.Mutex
}

var _ volumes.Volumes = (*Volumes)(nil)

// New returns Volumes on backend b within fence f with the default waits.
func New(b Backend, f *fsutil.Fence) *Volumes {
	return &Volumes{B: b, Fence: f, RescanWait: 10 * time.Second, QgroupWait: 10 * time.Second}
}

func (v *Volumes) warn(msg string, args ...any) {
	if v.Warn != nil {
		v.Warn(msg, args...)
	}
}

// CreateVolume makes the subvolume, or adopts an existing one of the same
// owner (repairing its mode and limit).
func (v *Volumes) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (volumes.Volume, error) {
	if err := volumes.ValidateVolumeSpec(spec); err != nil {
		return volumes.Volume{}, err
	}
	if err := twoElements(spec.Path); err != nil {
		return volumes.Volume{}, err
	}
	if err := v.Fence.Owner(spec.Path, spec.Owner.UID, spec.Owner.GID, spec.Owner.Mode, true); err != nil {
		return volumes.Volume{}, err
	}
	dirfd, base, err := v.Fence.OpenParent(spec.Path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return volumes.Volume{}, sdkerr.Wrap(err, sdkerr.FailedPrecondition, "the parent of %s does not exist: %v", spec.Path, err)
	} else if err != nil {
		return volumes.Volume{}, err
	}
	defer unix.Close(dirfd)
	fd, err := openEntry(dirfd, base, spec.Path)
	switch {
	case err != nil:
		return volumes.Volume{}, err
	case fd >= 0:
		defer unix.Close(fd)
		return v.adopt(ctx, spec, dirfd, fd)
	}
	return v.create(ctx, dirfd, base, spec)
}

func (v *Volumes) create(ctx context.Context, dirfd int, base string, spec volumes.VolumeSpec) (volumes.Volume, error) {
	tmp := tempName(base, "creating")
	tmpPath := filepath.Join(filepath.Dir(spec.Path), tmp)
	if err := v.B.CreateSubvolume(ctx, dirfd, tmp); err != nil {
		return volumes.Volume{}, fail(err, "create subvolume %s", tmpPath)
	}
	done := false
	defer func() {
		if !done {
			v.discard(ctx, dirfd, tmp, tmpPath)
		}
	}()
	fd, err := unix.Openat(dirfd, tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return volumes.Volume{}, fail(err, "open new subvolume %s", tmp)
	}
	defer unix.Close(fd)
	info, err := v.prepare(ctx, dirfd, fd, spec)
	if err != nil {
		return volumes.Volume{}, err
	}
	if err := unix.Renameat2(dirfd, tmp, dirfd, base, unix.RENAME_NOREPLACE); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return v.lostRace(ctx, dirfd, base, spec)
		}
		return volumes.Volume{}, fail(err, "rename %s to %s", tmp, spec.Path)
	}
	done = true
	// Under DeferSync the caller's Sync of the parent makes the new entry
	// durable, with the entries of the other homes made meanwhile.
	if !volumes.SyncDeferred(ctx) {
		if err := unix.Fsync(dirfd); err != nil {
			return volumes.Volume{}, fail(err, "fsync %s", filepath.Dir(spec.Path))
		}
	}
	return v.volume(ctx, spec.Path, fd, info.ID, false)
}

// prepare gives a new subvolume (fd, in dirfd) its owner, mode and limit.
func (v *Volumes) prepare(ctx context.Context, dirfd, fd int, spec volumes.VolumeSpec) (SubvolInfo, error) {
	if err := unix.Fchown(fd, int(spec.Owner.UID), int(spec.Owner.GID)); err != nil {
		return SubvolInfo{}, fail(err, "chown %s", spec.Path)
	}
	if err := unix.Fchmod(fd, spec.Owner.Mode); err != nil {
		return SubvolInfo{}, fail(err, "chmod %s", spec.Path)
	}
	info, err := v.B.SubvolInfo(ctx, fd)
	if err != nil {
		return SubvolInfo{}, fail(err, "inspect new subvolume for %s", spec.Path)
	}
	if spec.QuotaBytes > 0 {
		if err := v.limit(ctx, dirfd, fd, info.ID, spec.QuotaBytes, true); err != nil {
			return SubvolInfo{}, fail(err, "set quota of %s", spec.Path)
		}
	}
	return info, nil
}

// lostRace handles a concurrent create of the same path that renamed its
// subvolume into place first: ours is discarded (deferred) and theirs is
// adopted when it is identical.
func (v *Volumes) lostRace(ctx context.Context, dirfd int, base string, spec volumes.VolumeSpec) (volumes.Volume, error) {
	fd, err := openEntry(dirfd, base, spec.Path)
	if err != nil {
		return volumes.Volume{}, err
	}
	if fd < 0 {
		return volumes.Volume{}, sdkerr.Errorf(sdkerr.Unavailable, "%s appeared and vanished while it was created; retry", spec.Path)
	}
	defer unix.Close(fd)
	return v.adopt(ctx, spec, dirfd, fd)
}

// adopt accepts an existing subvolume (fd, in dirfd) of the same owner as
// the volume asked for, and refuses anything else, or a limit below what
// it already holds.
func (v *Volumes) adopt(ctx context.Context, spec volumes.VolumeSpec, dirfd, fd int) (volumes.Volume, error) {
	info, err := v.B.SubvolInfo(ctx, fd)
	if errors.Is(err, ErrNotSubvolume) {
		return volumes.Volume{}, sdkerr.Errorf(sdkerr.FailedPrecondition,
			"%s exists as a plain directory, not a btrfs subvolume; move it away (or copy it into a new volume) first", spec.Path)
	} else if err != nil {
		return volumes.Volume{}, fail(err, "inspect %s", spec.Path)
	}
	if info.ReadOnly || info.ID == topLevelID {
		return volumes.Volume{}, sdkerr.Errorf(sdkerr.FailedPrecondition, "%s is a read-only snapshot or the top-level subvolume, not a volume", spec.Path)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return volumes.Volume{}, fail(err, "stat %s", spec.Path)
	}
	if st.Uid != spec.Owner.UID || st.Gid != spec.Owner.GID {
		return volumes.Volume{}, sdkerr.Errorf(sdkerr.AlreadyExists,
			"%s exists owned by %d:%d, not %d:%d; refusing to hand it to another owner", spec.Path, st.Uid, st.Gid, spec.Owner.UID, spec.Owner.GID)
	}
	if st.Mode&0o7777 != spec.Owner.Mode {
		if err := unix.Fchmod(fd, spec.Owner.Mode); err != nil {
			return volumes.Volume{}, fail(err, "chmod %s", spec.Path)
		}
	}
	if err := v.limit(ctx, dirfd, fd, info.ID, spec.QuotaBytes, false); err != nil {
		return volumes.Volume{}, fail(err, "set quota of %s", spec.Path)
	}
	return v.volume(ctx, spec.Path, fd, info.ID, false)
}

// tempName is a hidden, unique name beside base for work in progress.
func tempName(base, what string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	suffix := "." + what + "-" + hex.EncodeToString(b)
	if len(base)+1+len(suffix) > 255 {
		base = base[:255-1-len(suffix)]
	}
	return "." + base + suffix
}

// twoElements refuses paths like /home whose removal or replacement would
// take a whole home root (or more) with it.
func twoElements(p string) error {
	if strings.Count(p, "/") < 2 {
		return sdkerr.Invalid("path", "%q has fewer than two elements; a volume lives below a home root", p)
	}
	return nil
}

// pathArg checks a path argument as the sdk's adapters do.
func pathArg(p string) error {
	if err := check.AbsPath("path", p); err != nil {
		return err
	}
	return twoElements(p)
}
