package volumesgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	volumesv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/volumes/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Server adapts a volumes.Volumes implementation to the gRPC service,
// checking every request before the implementation sees it.
type Server struct {
	volumesv1.UnimplementedVolumesServer
	impl volumes.Volumes
}

var _ volumesv1.VolumesServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl volumes.Volumes) *Server { return &Server{impl: impl} }

func (s *Server) CreateVolume(ctx context.Context, r *volumesv1.CreateVolumeRequest) (*volumesv1.CreateVolumeResponse, error) {
	spec := volumes.VolumeSpec{Path: r.GetPath(), Owner: volumes.Owner{UID: r.GetUid(), GID: r.GetGid(), Mode: r.GetMode()},
		QuotaBytes: r.GetQuotaBytes()}
	if err := volumes.ValidateVolumeSpec(spec); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	v, err := s.impl.CreateVolume(ctx, spec)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.CreateVolumeResponse{Volume: volumeToProto(v)}, nil
}

func (s *Server) DeleteVolume(ctx context.Context, r *volumesv1.DeleteVolumeRequest) (*volumesv1.DeleteVolumeResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.DeleteVolume(ctx, r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.DeleteVolumeResponse{}, nil
}

func (s *Server) SetQuota(ctx context.Context, r *volumesv1.SetQuotaRequest) (*volumesv1.SetQuotaResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	v, err := s.impl.SetQuota(ctx, r.GetPath(), r.GetQuotaBytes())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.SetQuotaResponse{Volume: volumeToProto(v)}, nil
}

func (s *Server) GetUsage(ctx context.Context, r *volumesv1.GetUsageRequest) (*volumesv1.GetUsageResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	v, err := s.impl.GetUsage(ctx, r.GetPath())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.GetUsageResponse{Volume: volumeToProto(v)}, nil
}

func (s *Server) Snapshot(ctx context.Context, r *volumesv1.SnapshotRequest) (*volumesv1.SnapshotResponse, error) {
	spec := volumes.SnapshotSpec{Source: r.GetPath(), Dest: r.GetDest(), ReadOnly: r.GetReadonly()}
	if err := volumes.ValidateSnapshotSpec(spec); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	snap, err := s.impl.Snapshot(ctx, spec)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.SnapshotResponse{Snapshot: snapshotToProto(snap)}, nil
}

func (s *Server) ListSnapshots(ctx context.Context, r *volumesv1.ListSnapshotsRequest) (*volumesv1.ListSnapshotsResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	snaps, err := s.impl.ListSnapshots(ctx, r.GetPath())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := make([]*volumesv1.Snapshot, len(snaps))
	for i, sn := range snaps {
		out[i] = snapshotToProto(sn)
	}
	return &volumesv1.ListSnapshotsResponse{Snapshots: out}, nil
}

func (s *Server) DeleteSnapshot(ctx context.Context, r *volumesv1.DeleteSnapshotRequest) (*volumesv1.DeleteSnapshotResponse, error) {
	if err := check.AbsPath("path", r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.DeleteSnapshot(ctx, r.GetPath()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.DeleteSnapshotResponse{}, nil
}

func (s *Server) EnsureDir(ctx context.Context, r *volumesv1.EnsureDirRequest) (*volumesv1.EnsureDirResponse, error) {
	owner := volumes.Owner{UID: r.GetUid(), GID: r.GetGid(), Mode: r.GetMode()}
	if err := volumes.ValidatePlacement(r.GetPath(), nil, owner); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.EnsureDir(ctx, r.GetPath(), owner); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.EnsureDirResponse{}, nil
}

func (s *Server) WriteFile(ctx context.Context, r *volumesv1.WriteFileRequest) (*volumesv1.WriteFileResponse, error) {
	owner := volumes.Owner{UID: r.GetUid(), GID: r.GetGid(), Mode: r.GetMode()}
	if err := volumes.ValidatePlacement(r.GetPath(), r.GetData(), owner); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.WriteFile(ctx, r.GetPath(), r.GetData(), owner); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.WriteFileResponse{}, nil
}

func (s *Server) Sync(ctx context.Context, r *volumesv1.SyncRequest) (*volumesv1.SyncResponse, error) {
	if err := volumes.ValidateSync(r.GetPaths()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := s.impl.Sync(ctx, r.GetPaths()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &volumesv1.SyncResponse{}, nil
}

func volumeToProto(v volumes.Volume) *volumesv1.Volume {
	out := &volumesv1.Volume{Path: v.Path, Kind: v.Kind, QuotaBytes: v.QuotaBytes, UsedBytes: v.UsedBytes, Uncovered: v.Uncovered}
	if v.Owner != nil {
		out.Owner = &volumesv1.Owner{Uid: v.Owner.UID, Gid: v.Owner.GID, Mode: v.Owner.Mode}
	}
	return out
}

func volumeFromProto(v *volumesv1.Volume) volumes.Volume {
	out := volumes.Volume{Path: v.GetPath(), Kind: v.GetKind(), QuotaBytes: v.GetQuotaBytes(), UsedBytes: v.GetUsedBytes(),
		Uncovered: v.GetUncovered()}
	if o := v.GetOwner(); o != nil {
		out.Owner = &volumes.Owner{UID: o.GetUid(), GID: o.GetGid(), Mode: o.GetMode()}
	}
	return out
}

func snapshotToProto(s volumes.Snapshot) *volumesv1.Snapshot {
	return &volumesv1.Snapshot{Path: s.Path, Source: s.Source, Readonly: s.ReadOnly, Created: s.Created}
}

func snapshotFromProto(s *volumesv1.Snapshot) volumes.Snapshot {
	return volumes.Snapshot{Path: s.GetPath(), Source: s.GetSource(), ReadOnly: s.GetReadonly(), Created: s.GetCreated()}
}
