package volumesgrpc_test

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

func client(t *testing.T) (volumes.Volumes, *volumes.Fake) {
	fake := volumes.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { _ = (&volumesgrpc.Plugin{Impl: fake}).GRPCServer(nil, s) })
	return volumesgrpc.NewClient(conn), fake
}

func TestVolumeRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)
	owner := volumes.Owner{UID: 2001, GID: 2001, Mode: 0o755}
	spec := volumes.VolumeSpec{Path: "/home/alice", Owner: owner, QuotaBytes: 1 << 30}
	for range 2 {
		v, err := c.CreateVolume(ctx, spec)
		if err != nil || v.Path != "/home/alice" || v.QuotaBytes != 1<<30 {
			t.Fatalf("%+v %v", v, err)
		}
	}
	cfg := volumes.Owner{UID: 2001, GID: 2001, Mode: 0o600}
	if err := c.WriteFile(ctx, "/home/alice/hero/cfg/hero_cfg.toml", []byte("token = 'x'\n"), cfg); err != nil {
		t.Fatal(err)
	}
	if f, ok := fake.File("/home/alice/hero/cfg/hero_cfg.toml"); !ok || f.Owner != cfg || string(f.Data) != "token = 'x'\n" {
		t.Errorf("file %+v %v", f, ok)
	}
	if err := c.EnsureDir(ctx, "/home/alice/.ssh", volumes.Owner{UID: 2001, GID: 2001, Mode: 0o700}); err != nil {
		t.Fatal(err)
	}
	if v, err := c.SetQuota(ctx, "/home/alice", 0); err != nil || v.QuotaBytes != 0 || v.UsedBytes != 12 {
		t.Errorf("SetQuota: %+v %v", v, err)
	}
	snap, err := c.Snapshot(ctx, volumes.SnapshotSpec{Source: "/home/alice", Dest: "/home/.snap/alice", ReadOnly: true})
	if err != nil || !snap.ReadOnly {
		t.Fatalf("%+v %v", snap, err)
	}
	if list, _ := c.ListSnapshots(ctx, "/home/alice"); len(list) != 1 || list[0].Path != "/home/.snap/alice" {
		t.Errorf("snapshots %+v", list)
	}
	for range 2 {
		if err := c.DeleteSnapshot(ctx, "/home/.snap/alice"); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteVolume(ctx, "/home/alice"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetUsage(ctx, "/home/alice"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("usage after delete: %v", err)
	}
}

func TestVolumeBadInput(t *testing.T) {
	ctx := context.Background()
	c, _ := client(t)
	for _, p := range []string{"", "home/alice", "/home/../etc", "/home/./a", "/", "/home//a", "/home/a/"} {
		if _, err := c.CreateVolume(ctx, volumes.VolumeSpec{Path: p}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("CreateVolume(%q): %v", p, err)
		}
	}
	if err := c.EnsureDir(ctx, "/home/a", volumes.Owner{Mode: 0o10000}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("mode 010000: %v", err)
	}
	big := make([]byte, 1<<20+1)
	if err := c.WriteFile(ctx, "/home/a/f", big, volumes.Owner{Mode: 0o600}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("oversized file: %v", err)
	}
}
