// Package volumes is the plugin contract for a user's home storage: a btrfs
// subvolume with a quota, or a plain directory; snapshots; and placing files
// inside a home on the host's behalf, since the unprivileged host cannot
// write there. It holds the Go interface, its types and checks, and a
// map-backed fake; the go-plugin glue and the gRPC client and server adapters
// are in volumes/volumesgrpc. Paths are absolute and clean, nothing is
// followed through a symlink, and every call is idempotent.
//
// What a plugin refuses on its own (sdk/fsutil's fence, from the
// root-owned policy; PermissionDenied naming the path or owner and the
// rule): a path beneath none of its roots (the home roots and its own
// extra roots); a root itself for anything that creates, changes or
// removes it (reads and Sync may name a root); an owner that is not a
// managed account and group, uid 0 except for a directory of a managed
// group or one only root may write (a group's shared volume and the
// directory holding them), setuid, and setgid on anything but a
// directory.
//
// Durability: WriteFile and CreateVolume are durable when they return
// (they fsync what they wrote and the directory that holds it). A caller
// that writes several files can instead mark its context with DeferSync
// and call Sync once on all of them at the end, which lets the plugin skip
// the fsyncs of each call (see DeferSync).
package volumes

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "volumes"

// APIVersion is the contract version this package speaks.
const APIVersion = "volumes.v1"

// Volume kinds.
const (
	KindSubvolume = "subvolume"
	KindDirectory = "directory"
)

// Volumes is implemented by a volumes plugin.
type Volumes interface {
	// CreateVolume makes the volume at spec.Path, or returns it when it
	// exists with the same owner. The path lies strictly beneath a root
	// and the owner is fenced as a directory's. The new entry is made durable (an fsync
	// of the parent directory) unless the call is under DeferSync, when
	// the caller's Sync of the parent does it.
	CreateVolume(ctx context.Context, spec VolumeSpec) (Volume, error)
	DeleteVolume(ctx context.Context, path string) error
	// SetQuota sets the limit in bytes; 0 removes it. Lowering a limit
	// (or setting a first one) below what the volume already holds is
	// refused with FailedPrecondition and changes no limit: every write
	// into the volume, the host's own included, would fail. Re-applying
	// or raising a limit always works, however full the volume is, and
	// brings any subvolume inside it under the limit (see
	// Volume.Uncovered).
	SetQuota(ctx context.Context, path string, quotaBytes uint64) (Volume, error)
	// GetUsage reports the volume at path, with its Owner; a path with
	// nothing at it is NotFound.
	GetUsage(ctx context.Context, path string) (Volume, error)
	Snapshot(ctx context.Context, spec SnapshotSpec) (Snapshot, error)
	// ListSnapshots lists the snapshots taken of the volume at path.
	ListSnapshots(ctx context.Context, path string) ([]Snapshot, error)
	DeleteSnapshot(ctx context.Context, path string) error
	// EnsureDir makes the directory (not its parents) or fixes its owner and
	// mode (permission bits); a symlink at path is refused, and so is a
	// path at or outside a root and an owner the fence refuses.
	EnsureDir(ctx context.Context, path string, owner Owner) error
	// WriteFile replaces the file atomically: temp file in the same
	// directory, fsync, chown and chmod, rename, fsync of the directory. A
	// symlink is never followed. Under DeferSync the fsyncs may be left to
	// the caller's Sync. The file is never root's, never setuid or setgid,
	// and only beneath a root.
	WriteFile(ctx context.Context, path string, data []byte, owner Owner) error
	// Sync makes each path durable, in the order given: a regular file's
	// data and metadata, a directory's entries; list files before the
	// directories that hold them. Nothing is followed through a symlink: a
	// symlink on the way is FailedPrecondition, and one at the path itself
	// is, like a device, a FIFO or a socket, neither a regular file nor a
	// directory, which is InvalidArgument. A missing path is NotFound. An
	// empty list does nothing and succeeds: the host calls Sync(ctx, nil)
	// to learn whether the plugin has Sync (Unimplemented when it has not)
	// before it marks any call with DeferSync.
	Sync(ctx context.Context, paths []string) error
}

// VolumeSpec describes a volume to create.
type VolumeSpec struct {
	Path       string
	Owner      Owner
	QuotaBytes uint64 // 0 = no limit
}

// Owner is who owns a path and its permission bits (e.g. 0o755).
type Owner struct {
	UID, GID uint32
	Mode     uint32
}

// Volume is a volume as the machine holds it.
type Volume struct {
	Path       string
	Kind       string // KindSubvolume or KindDirectory
	QuotaBytes uint64
	UsedBytes  uint64
	// Uncovered lists the subvolumes inside a limited volume that its limit
	// does not cover (a user can make one with `btrfs subvolume create`):
	// what is written there escapes the quota. GetUsage and SetQuota fill
	// it; SetQuota brings every one of them under the limit, so it lists
	// only those that appeared meanwhile. Empty when the plugin has no
	// such thing.
	Uncovered []string
	// Owner is the owner and permission bits of the volume's top
	// directory. GetUsage reports it; nil when the plugin does not (one
	// built before the field). The host reads it before a create: a home
	// that is already the new user's may be adopted, any other is refused
	// and left as it is.
	Owner *Owner
}

// SnapshotSpec describes a snapshot of Source at Dest.
type SnapshotSpec struct {
	Source   string
	Dest     string
	ReadOnly bool
}

// Snapshot is a snapshot as the machine holds it.
type Snapshot struct {
	Path     string
	Source   string
	ReadOnly bool
	Created  int64 // unix seconds
}

// Unimplemented answers every call with an Unimplemented error; embed it.
type Unimplemented struct{}

var _ Volumes = Unimplemented{}

func unimplemented(method string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "volumes.%s is not implemented by this plugin", method)
}

func (Unimplemented) CreateVolume(context.Context, VolumeSpec) (Volume, error) {
	return Volume{}, unimplemented("CreateVolume")
}
func (Unimplemented) DeleteVolume(context.Context, string) error {
	return unimplemented("DeleteVolume")
}
func (Unimplemented) SetQuota(context.Context, string, uint64) (Volume, error) {
	return Volume{}, unimplemented("SetQuota")
}
func (Unimplemented) GetUsage(context.Context, string) (Volume, error) {
	return Volume{}, unimplemented("GetUsage")
}
func (Unimplemented) Snapshot(context.Context, SnapshotSpec) (Snapshot, error) {
	return Snapshot{}, unimplemented("Snapshot")
}
func (Unimplemented) ListSnapshots(context.Context, string) ([]Snapshot, error) {
	return nil, unimplemented("ListSnapshots")
}
func (Unimplemented) DeleteSnapshot(context.Context, string) error {
	return unimplemented("DeleteSnapshot")
}
func (Unimplemented) EnsureDir(context.Context, string, Owner) error {
	return unimplemented("EnsureDir")
}
func (Unimplemented) WriteFile(context.Context, string, []byte, Owner) error {
	return unimplemented("WriteFile")
}
func (Unimplemented) Sync(context.Context, []string) error {
	return unimplemented("Sync")
}
