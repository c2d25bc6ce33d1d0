package fsutil

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// FenceVolumes wraps a volumes implementation so every call is judged
// before it runs: the request's form (the contract's checks), then every
// path against f (volumes, snapshots and what is removed strictly beneath
// a root; reads and Sync a root or beneath one) and every owner
// (f.Owner; a volume and an EnsureDir are directories, a WriteFile a
// file). What is refused never reaches next.
func FenceVolumes(f *Fence, next volumes.Volumes) volumes.Volumes {
	return fencedVolumes{f: f, next: next}
}

type fencedVolumes struct {
	f    *Fence
	next volumes.Volumes
}

func (v fencedVolumes) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (volumes.Volume, error) {
	if err := volumes.ValidateVolumeSpec(spec); err != nil {
		return volumes.Volume{}, err
	}
	if err := v.dir(spec.Path, spec.Owner); err != nil {
		return volumes.Volume{}, err
	}
	return v.next.CreateVolume(ctx, spec)
}

func (v fencedVolumes) DeleteVolume(ctx context.Context, path string) error {
	if _, err := v.f.Below("path", path); err != nil {
		return err
	}
	return v.next.DeleteVolume(ctx, path)
}

func (v fencedVolumes) SetQuota(ctx context.Context, path string, quotaBytes uint64) (volumes.Volume, error) {
	if _, err := v.f.Below("path", path); err != nil {
		return volumes.Volume{}, err
	}
	return v.next.SetQuota(ctx, path, quotaBytes)
}

func (v fencedVolumes) GetUsage(ctx context.Context, path string) (volumes.Volume, error) {
	if _, err := v.f.Path("path", path); err != nil {
		return volumes.Volume{}, err
	}
	return v.next.GetUsage(ctx, path)
}

func (v fencedVolumes) Snapshot(ctx context.Context, spec volumes.SnapshotSpec) (volumes.Snapshot, error) {
	if err := volumes.ValidateSnapshotSpec(spec); err != nil {
		return volumes.Snapshot{}, err
	}
	if _, err := v.f.Below("path", spec.Source); err != nil {
		return volumes.Snapshot{}, err
	}
	if _, err := v.f.Below("dest", spec.Dest); err != nil {
		return volumes.Snapshot{}, err
	}
	return v.next.Snapshot(ctx, spec)
}

func (v fencedVolumes) ListSnapshots(ctx context.Context, path string) ([]volumes.Snapshot, error) {
	if _, err := v.f.Path("path", path); err != nil {
		return nil, err
	}
	return v.next.ListSnapshots(ctx, path)
}

func (v fencedVolumes) DeleteSnapshot(ctx context.Context, path string) error {
	if _, err := v.f.Below("path", path); err != nil {
		return err
	}
	return v.next.DeleteSnapshot(ctx, path)
}

func (v fencedVolumes) EnsureDir(ctx context.Context, path string, owner volumes.Owner) error {
	if err := volumes.ValidatePlacement(path, nil, owner); err != nil {
		return err
	}
	if err := v.dir(path, owner); err != nil {
		return err
	}
	return v.next.EnsureDir(ctx, path, owner)
}

func (v fencedVolumes) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	if err := volumes.ValidatePlacement(path, data, owner); err != nil {
		return err
	}
	if _, err := v.f.Below("path", path); err != nil {
		return err
	}
	if err := v.f.Owner(path, owner.UID, owner.GID, owner.Mode, false); err != nil {
		return err
	}
	return v.next.WriteFile(ctx, path, data, owner)
}

func (v fencedVolumes) Sync(ctx context.Context, paths []string) error {
	if err := volumes.ValidateSync(paths); err != nil {
		return err
	}
	for _, p := range paths {
		if _, err := v.f.Path("paths", p); err != nil {
			return err
		}
	}
	return v.next.Sync(ctx, paths)
}

// dir checks a directory the call makes or repairs.
func (v fencedVolumes) dir(path string, owner volumes.Owner) error {
	if _, err := v.f.Below("path", path); err != nil {
		return err
	}
	return v.f.Owner(path, owner.UID, owner.GID, owner.Mode, true)
}
