package volumesgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Routed is a volumes.Volumes whose every call runs on the implementation
// r routes it to: the host's client, which finds the live plugin process
// at each call.
func Routed(r concern.Router) volumes.Volumes { return routed{r} }

type routed struct{ r concern.Router }

var _ volumes.Volumes = routed{}

func (c routed) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (out volumes.Volume, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.CreateVolume(ctx, spec)
		return err
	})
	return out, err
}

func (c routed) DeleteVolume(ctx context.Context, path string) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) error {
		return p.DeleteVolume(ctx, path)
	})
}

func (c routed) SetQuota(ctx context.Context, path string, quotaBytes uint64) (out volumes.Volume, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.SetQuota(ctx, path, quotaBytes)
		return err
	})
	return out, err
}

func (c routed) GetUsage(ctx context.Context, path string) (out volumes.Volume, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.GetUsage(ctx, path)
		return err
	})
	return out, err
}

func (c routed) Snapshot(ctx context.Context, spec volumes.SnapshotSpec) (out volumes.Snapshot, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.Snapshot(ctx, spec)
		return err
	})
	return out, err
}

func (c routed) ListSnapshots(ctx context.Context, path string) (out []volumes.Snapshot, err error) {
	err = concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) (err error) {
		out, err = p.ListSnapshots(ctx, path)
		return err
	})
	return out, err
}

func (c routed) DeleteSnapshot(ctx context.Context, path string) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) error {
		return p.DeleteSnapshot(ctx, path)
	})
}

func (c routed) EnsureDir(ctx context.Context, path string, owner volumes.Owner) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) error {
		return p.EnsureDir(ctx, path, owner)
	})
}

func (c routed) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) error {
		return p.WriteFile(ctx, path, data, owner)
	})
}

func (c routed) Sync(ctx context.Context, paths []string) error {
	return concern.Call(c.r, ctx, func(ctx context.Context, p volumes.Volumes) error {
		return p.Sync(ctx, paths)
	})
}
