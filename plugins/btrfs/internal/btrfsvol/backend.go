package btrfsvol

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Backend is the handful of btrfs primitives the volume logic needs. Two
// implementations exist: Ioctl talks to the kernel directly (no fork, the
// default) and Tool runs btrfs-progs (the fallback, and the reference the
// ioctl path is checked against). Every call names its target by an open
// directory descriptor, plus a single name for the calls that make or
// remove an entry in that directory, so no path is ever re-resolved through
// a symlink between the plugin's checks and the kernel's work.
type Backend interface {
	// Name is "ioctl" or "tool", for logs and Probe.
	Name() string
	// SubvolInfo describes the subvolume whose root directory fd is open,
	// or returns ErrNotSubvolume.
	SubvolInfo(ctx context.Context, fd int) (SubvolInfo, error)
	// CreateSubvolume makes an empty subvolume name in dirfd.
	CreateSubvolume(ctx context.Context, dirfd int, name string) error
	// Snapshot makes name in dirfd a snapshot of the subvolume open as srcfd.
	Snapshot(ctx context.Context, srcfd, dirfd int, name string, readOnly bool) error
	// DeleteSubvolume removes the subvolume name in dirfd and commits the
	// transaction, so the deletion is durable when it returns.
	DeleteSubvolume(ctx context.Context, dirfd int, name string) error
	// EnableQuota turns quotas on for the filesystem fd is on: simple
	// quotas where the kernel has them (≥ 6.7), full qgroups otherwise.
	// Under simple quotas the kernel itself puts a subvolume made inside a
	// volume into the volume's group; under full qgroups only the Watcher
	// does.
	EnableQuota(ctx context.Context, fd int) error
	// WaitRescan blocks until a running qgroup rescan finished.
	WaitRescan(ctx context.Context, fd int) error
	// StartRescan starts a qgroup rescan; one already running is fine.
	StartRescan(ctx context.Context, fd int) error
	// QuotaState reports, as of now, whether qgroups are on, in which
	// mode, being rescanned, or marked inconsistent.
	QuotaState(ctx context.Context, fd int) (QuotaState, error)

	// The qgroup calls below take a qgroup id with its level (see
	// volumeGroup). Each starts a transaction that reserves metadata in the
	// qgroups of the subvolume fd is in, so they are issued on a directory
	// outside the volume whose qgroups they change (its parent): on the
	// volume itself, a volume over its limit would refuse every change of
	// that limit with EDQUOT.

	// SetLimit sets the referenced-bytes limit of qgroup q; 0 clears it.
	// ErrQuotaDisabled when qgroups are off, ErrNoQgroup when q does not
	// exist.
	SetLimit(ctx context.Context, fd int, q, bytes uint64) error
	// Qgroup reads qgroup q: ErrQuotaDisabled when qgroups are off,
	// ErrNoQgroup when it does not exist.
	Qgroup(ctx context.Context, fd int, q uint64) (Qgroup, error)
	// CreateQgroup makes the higher-level qgroup q; one that exists is
	// success.
	CreateQgroup(ctx context.Context, fd int, q uint64) error
	// Relate makes qgroup child a member of parent (add) or takes it out;
	// what already is so is success. Under full qgroups the kernel marks
	// the accounting inconsistent when child shares extents outside
	// parent; the caller checks QuotaState.
	Relate(ctx context.Context, fd int, child, parent uint64, add bool) error
	// Parents lists the qgroups q is a member of.
	Parents(ctx context.Context, fd int, q uint64) ([]uint64, error)
	// DestroyQgroup removes qgroup q; nil when it does not exist,
	// ErrQgroupBusy while the kernel still accounts a deleted subvolume
	// (or, for a group, while it has members).
	DestroyQgroup(ctx context.Context, fd int, q uint64) error
	// Nested lists the subvolumes below subvolume id, whose root directory
	// fd is, with their paths relative to it.
	Nested(ctx context.Context, fd int, id uint64) ([]SubvolEntry, error)
	// Subvolumes lists every subvolume of the filesystem fd is on, with
	// its path from the filesystem's top level.
	Subvolumes(ctx context.Context, fd int) ([]SubvolEntry, error)
}

// SubvolInfo is what the volume logic needs to know of one subvolume.
type SubvolInfo struct {
	ID         uint64
	UUID       string // canonical text form
	ParentUUID string // "" unless the subvolume is a snapshot
	ReadOnly   bool
	Created    time.Time
}

// Qgroup is a qgroup's usage and limit.
type Qgroup struct {
	ID         uint64
	Referenced uint64
	Exclusive  uint64
	MaxRef     uint64 // 0 = no limit
}

// QuotaState is the qgroup status of a filesystem. While the kernel holds
// the accounting inconsistent it skips it, so limits are not enforced
// until a rescan ends. Simple is the mode: simple quotas (squota) rather
// than full qgroups.
type QuotaState struct {
	Enabled, Simple, Rescanning, Inconsistent bool
}

// SubvolEntry is one subvolume of a filesystem.
type SubvolEntry struct {
	ID         uint64
	Path       string // from the top level, no leading slash
	UUID       string
	ParentUUID string
}

// Sentinel errors a Backend returns so the volume logic can branch.
var (
	ErrNotSubvolume  = errors.New("not a btrfs subvolume")
	ErrQuotaDisabled = errors.New("btrfs quotas are not enabled")
	ErrNoQgroup      = errors.New("no such qgroup")
	ErrQgroupBusy    = errors.New("qgroup still in use")
)

// qgroupLevelShift places a qgroup's level above its id
// (BTRFS_QGROUP_LEVEL_SHIFT): qgroup "1/257" is 1<<48 | 257.
const qgroupLevelShift = 48

// volumeGroup is the level-1 qgroup that carries the limit of the volume
// whose subvolume id is id: "1/<id>". The volume's own qgroup 0/<id> and
// the qgroups of every subvolume made inside it are its members, so the
// limit holds for all of them together; a limit on 0/<id> alone would
// not count a nested subvolume.
func volumeGroup(id uint64) uint64 { return 1<<qgroupLevelShift | id }

// qgroupName spells qgroup q as btrfs-progs does: "level/id".
func qgroupName(q uint64) string {
	return fmt.Sprintf("%d/%d", q>>qgroupLevelShift, q&(1<<qgroupLevelShift-1))
}

// qgroupLevel is q's level: 0 for a subvolume's own qgroup.
func qgroupLevel(q uint64) uint64 { return q >> qgroupLevelShift }

// topLevelID is the id of a btrfs filesystem's top-level subvolume, which
// is never a user's volume.
const topLevelID = 5

// firstFreeObjectID is the inode number of every subvolume's root
// directory (BTRFS_FIRST_FREE_OBJECTID).
const firstFreeObjectID = 256

// fdPath names an open descriptor of this process as a path another
// process can open: a child btrfs resolves it through the descriptor, not
// through the name the plugin was given, so a symlink planted after the
// plugin's checks is never followed.
func fdPath(fd int, name string) string {
	p := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)
	if name != "" {
		p += "/" + name
	}
	return p
}

// formatUUID renders 16 bytes as a UUID, or "" when they are all zero.
func formatUUID(b []byte) string {
	zero := true
	for _, c := range b {
		if c != 0 {
			zero = false
			break
		}
	}
	if zero || len(b) != 16 {
		return ""
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
