// Package dirvol is the volumes concern on any filesystem (ext4, xfs,
// tmpfs, ...): a user's home is a plain directory. It has no quotas (Probe
// says so; SetQuota and CreateVolume refuse a limit with
// FailedPrecondition rather than pretend) and takes no snapshots. Usage is
// counted like `du -sx`. A new home is made under a temporary name and
// renamed into place, so it appears whole; DeleteVolume renames it away
// first and then removes the tree through directory descriptors, never
// following a symlink and never entering a mount point. Every path is
// judged by the plugin's fence (sdk/fsutil) first.
package dirvol

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Volumes serves the volumes concern with plain directories, within its
// Fence: every path is resolved beneath a root of the policy without
// following a symlink, and only managed owners are given.
type Volumes struct {
	Fence *fsutil.Fence
}

var _ volumes.Volumes = Volumes{}

// errNoQuota is the answer to any request for a limit.
func errNoQuota(path string) error {
	return sdkerr.Errorf(sdkerr.FailedPrecondition,
		"quotas unsupported by the dir plugin (%s is a plain directory; use a btrfs home root for quotas)", path)
}

// CreateVolume makes the directory, or adopts an existing one of the same
// owner (repairing its mode).
func (v Volumes) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (volumes.Volume, error) {
	if err := volumes.ValidateVolumeSpec(spec); err != nil {
		return volumes.Volume{}, err
	}
	if err := twoElements(spec.Path); err != nil {
		return volumes.Volume{}, err
	}
	if err := v.Fence.Owner(spec.Path, spec.Owner.UID, spec.Owner.GID, spec.Owner.Mode, true); err != nil {
		return volumes.Volume{}, err
	}
	if spec.QuotaBytes > 0 {
		return volumes.Volume{}, errNoQuota(spec.Path)
	}
	dirfd, base, err := v.Fence.OpenParent(spec.Path)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return volumes.Volume{}, sdkerr.Wrap(err, sdkerr.FailedPrecondition, "the parent of %s does not exist: %v", spec.Path, err)
	} else if err != nil {
		return volumes.Volume{}, err
	}
	defer unix.Close(dirfd)
	fd, err := openEntry(dirfd, base, spec.Path)
	if err != nil {
		return volumes.Volume{}, err
	}
	if fd < 0 {
		return create(ctx, dirfd, base, spec)
	}
	defer unix.Close(fd)
	return adopt(fd, spec)
}

func create(ctx context.Context, dirfd int, base string, spec volumes.VolumeSpec) (volumes.Volume, error) {
	tmp := tempName(base, "creating")
	if err := unix.Mkdirat(dirfd, tmp, 0o700); err != nil {
		return volumes.Volume{}, sysErr(err, "mkdir in %s", filepath.Dir(spec.Path))
	}
	done := false
	defer func() {
		if !done {
			_ = unix.Unlinkat(dirfd, tmp, unix.AT_REMOVEDIR)
		}
	}()
	fd, err := unix.Openat(dirfd, tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return volumes.Volume{}, sysErr(err, "open new directory for %s", spec.Path)
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, int(spec.Owner.UID), int(spec.Owner.GID)); err != nil {
		return volumes.Volume{}, sysErr(err, "chown %s", spec.Path)
	}
	if err := unix.Fchmod(fd, spec.Owner.Mode); err != nil {
		return volumes.Volume{}, sysErr(err, "chmod %s", spec.Path)
	}
	if err := unix.Renameat2(dirfd, tmp, dirfd, base, unix.RENAME_NOREPLACE); err != nil {
		if !errors.Is(err, unix.EEXIST) {
			return volumes.Volume{}, sysErr(err, "rename into %s", spec.Path)
		}
		// A concurrent create won: adopt its directory if identical.
		other, err := openEntry(dirfd, base, spec.Path)
		if err != nil || other < 0 {
			return volumes.Volume{}, firstErr(err, sdkerr.Errorf(sdkerr.Unavailable, "%s changed while it was created; retry", spec.Path))
		}
		defer unix.Close(other)
		return adopt(other, spec)
	}
	done = true
	// Under DeferSync the caller's Sync of the parent makes the new entry
	// durable, with the entries of the other homes made meanwhile.
	if !volumes.SyncDeferred(ctx) {
		if err := unix.Fsync(dirfd); err != nil {
			return volumes.Volume{}, sysErr(err, "fsync %s", filepath.Dir(spec.Path))
		}
	}
	return volumes.Volume{Path: spec.Path, Kind: volumes.KindDirectory}, nil
}

// adopt accepts an existing directory of the same owner.
func adopt(fd int, spec volumes.VolumeSpec) (volumes.Volume, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return volumes.Volume{}, sysErr(err, "stat %s", spec.Path)
	}
	if st.Uid != spec.Owner.UID || st.Gid != spec.Owner.GID {
		return volumes.Volume{}, sdkerr.Errorf(sdkerr.AlreadyExists,
			"%s exists owned by %d:%d, not %d:%d; refusing to hand it to another owner", spec.Path, st.Uid, st.Gid, spec.Owner.UID, spec.Owner.GID)
	}
	if st.Mode&0o7777 != spec.Owner.Mode {
		if err := unix.Fchmod(fd, spec.Owner.Mode); err != nil {
			return volumes.Volume{}, sysErr(err, "chmod %s", spec.Path)
		}
	}
	return volumes.Volume{Path: spec.Path, Kind: volumes.KindDirectory}, nil
}

// SetQuota refuses any limit; clearing one (0) is the state already.
func (v Volumes) SetQuota(ctx context.Context, path string, quotaBytes uint64) (volumes.Volume, error) {
	if err := check.AbsPath("path", path); err != nil {
		return volumes.Volume{}, err
	}
	if quotaBytes > 0 {
		return volumes.Volume{}, errNoQuota(path)
	}
	return v.GetUsage(ctx, path)
}

// GetUsage counts the directory's bytes; the limit is always 0.
func (v Volumes) GetUsage(_ context.Context, path string) (volumes.Volume, error) {
	if err := check.AbsPath("path", path); err != nil {
		return volumes.Volume{}, err
	}
	fd, err := v.Fence.OpenDir(path)
	if err != nil {
		return volumes.Volume{}, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return volumes.Volume{}, sysErr(err, "stat %s", path)
	}
	used, err := osutil.DiskUsage(fd)
	if err != nil {
		return volumes.Volume{}, err
	}
	owner := &volumes.Owner{UID: st.Uid, GID: st.Gid, Mode: st.Mode & 0o7777}
	return volumes.Volume{Path: path, Kind: volumes.KindDirectory, UsedBytes: used, Owner: owner}, nil
}

// EnsureDir makes or repairs a directory inside a volume. The fence
// applies the permission bits only (no setuid, setgid or sticky).
func (v Volumes) EnsureDir(_ context.Context, path string, owner volumes.Owner) error {
	if err := volumes.ValidatePlacement(path, nil, owner); err != nil {
		return err
	}
	return v.Fence.EnsureDir(path, owner.UID, owner.GID, owner.Mode)
}

// WriteFile places a file inside a volume atomically; under
// volumes.DeferSync without fsyncs, which the caller's Sync makes up for.
func (v Volumes) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	if err := volumes.ValidatePlacement(path, data, owner); err != nil {
		return err
	}
	return v.Fence.WriteFile(path, data, owner.UID, owner.GID, owner.Mode, !volumes.SyncDeferred(ctx))
}

// Sync fsyncs each path in order (see volumes.Volumes.Sync).
func (v Volumes) Sync(_ context.Context, paths []string) error {
	if err := volumes.ValidateSync(paths); err != nil {
		return err
	}
	return v.Fence.Sync(paths)
}

// twoElements refuses paths like /home: removing one takes a whole home
// root (or more) with it.
func twoElements(p string) error {
	if strings.Count(p, "/") < 2 {
		return sdkerr.Invalid("path", "%q has fewer than two elements; a volume lives below a home root", p)
	}
	return nil
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

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
