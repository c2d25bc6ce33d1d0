package volumesgrpc

import (
	"context"

	volumesv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/volumes/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"google.golang.org/grpc"
)

// Client is the host side: a volumes.Volumes over a gRPC connection. It does
// not check input itself, so the conformance kit sees what the plugin does.
type Client struct {
	rpc volumesv1.VolumesClient
}

var _ volumes.Volumes = (*Client)(nil)

// NewClient wraps a connection to a volumes plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: volumesv1.NewVolumesClient(conn)}
}

func (c *Client) CreateVolume(ctx context.Context, spec volumes.VolumeSpec) (volumes.Volume, error) {
	r, err := c.rpc.CreateVolume(ctx, &volumesv1.CreateVolumeRequest{Path: spec.Path, Uid: spec.Owner.UID,
		Gid: spec.Owner.GID, Mode: spec.Owner.Mode, QuotaBytes: spec.QuotaBytes})
	if err != nil {
		return volumes.Volume{}, sdkerrgrpc.FromStatus(err)
	}
	return volumeFromProto(r.GetVolume()), nil
}

func (c *Client) DeleteVolume(ctx context.Context, path string) error {
	_, err := c.rpc.DeleteVolume(ctx, &volumesv1.DeleteVolumeRequest{Path: path})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) SetQuota(ctx context.Context, path string, quotaBytes uint64) (volumes.Volume, error) {
	r, err := c.rpc.SetQuota(ctx, &volumesv1.SetQuotaRequest{Path: path, QuotaBytes: quotaBytes})
	if err != nil {
		return volumes.Volume{}, sdkerrgrpc.FromStatus(err)
	}
	return volumeFromProto(r.GetVolume()), nil
}

func (c *Client) GetUsage(ctx context.Context, path string) (volumes.Volume, error) {
	r, err := c.rpc.GetUsage(ctx, &volumesv1.GetUsageRequest{Path: path})
	if err != nil {
		return volumes.Volume{}, sdkerrgrpc.FromStatus(err)
	}
	return volumeFromProto(r.GetVolume()), nil
}

func (c *Client) Snapshot(ctx context.Context, spec volumes.SnapshotSpec) (volumes.Snapshot, error) {
	r, err := c.rpc.Snapshot(ctx, &volumesv1.SnapshotRequest{Path: spec.Source, Dest: spec.Dest, Readonly: spec.ReadOnly})
	if err != nil {
		return volumes.Snapshot{}, sdkerrgrpc.FromStatus(err)
	}
	return snapshotFromProto(r.GetSnapshot()), nil
}

func (c *Client) ListSnapshots(ctx context.Context, path string) ([]volumes.Snapshot, error) {
	r, err := c.rpc.ListSnapshots(ctx, &volumesv1.ListSnapshotsRequest{Path: path})
	if err != nil {
		return nil, sdkerrgrpc.FromStatus(err)
	}
	out := make([]volumes.Snapshot, len(r.GetSnapshots()))
	for i, s := range r.GetSnapshots() {
		out[i] = snapshotFromProto(s)
	}
	return out, nil
}

func (c *Client) DeleteSnapshot(ctx context.Context, path string) error {
	_, err := c.rpc.DeleteSnapshot(ctx, &volumesv1.DeleteSnapshotRequest{Path: path})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) EnsureDir(ctx context.Context, path string, owner volumes.Owner) error {
	_, err := c.rpc.EnsureDir(ctx, &volumesv1.EnsureDirRequest{Path: path, Uid: owner.UID, Gid: owner.GID, Mode: owner.Mode})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	_, err := c.rpc.WriteFile(ctx, &volumesv1.WriteFileRequest{Path: path, Data: data, Uid: owner.UID,
		Gid: owner.GID, Mode: owner.Mode})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) Sync(ctx context.Context, paths []string) error {
	_, err := c.rpc.Sync(ctx, &volumesv1.SyncRequest{Paths: paths})
	return sdkerrgrpc.FromStatus(err)
}
