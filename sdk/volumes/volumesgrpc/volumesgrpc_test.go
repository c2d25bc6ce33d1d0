package volumesgrpc_test

import (
	"context"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

func client(t *testing.T) (volumes.Volumes, *volumes.Fake) {
	fake := volumes.NewFake()
	conn := grpctest.Conn(t, func(s *grpc.Server) { volumesgrpc.Concern.Serve(s, fake) })
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
	if v, err := c.GetUsage(ctx, "/home/alice"); err != nil || v.Owner == nil || *v.Owner != owner {
		t.Errorf("GetUsage owner: %+v %v", v, err)
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

func TestSyncRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, fake := client(t)
	if err := c.Sync(ctx, nil); err != nil {
		t.Fatalf("probe: %v", err)
	}
	owner := volumes.Owner{UID: 2001, GID: 2001, Mode: 0o600}
	if err := c.WriteFile(ctx, "/home/alice/.ssh/authorized_keys", []byte("k\n"), owner); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/home/alice/.ssh/authorized_keys", "/home/alice/.ssh", "/home"}
	if err := c.Sync(ctx, paths); err != nil {
		t.Fatal(err)
	}
	if got := fake.Synced(); !slices.Equal(got, paths) {
		t.Errorf("synced %v", got)
	}
	if err := c.Sync(ctx, []string{"/home/bob"}); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("unknown path: %v", err)
	}
	for _, bad := range [][]string{{""}, {"home"}, {"/home/../etc"}, {"/"}, {"/home", "/home/a/"},
		slices.Repeat([]string{"/home"}, volumes.MaxSyncPaths+1)} {
		if err := c.Sync(ctx, bad); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("Sync(%.40q): %v", bad, err)
		}
	}
	if err := (volumes.Unimplemented{}).Sync(ctx, nil); !sdkerr.Is(err, sdkerr.Unimplemented) {
		t.Errorf("Unimplemented.Sync: %v", err)
	}
}

// TestDeferSyncMarkTravels: with the client interceptor on the connection
// and the server interceptor on the server, a call made under DeferSync
// arrives under DeferSync and one made without it does not; without the
// client interceptor the mark stays behind.
func TestDeferSyncMarkTravels(t *testing.T) {
	owner := volumes.Owner{UID: 2001, GID: 2001, Mode: 0o600}
	for _, withClient := range []bool{true, false} {
		fake := volumes.NewFake()
		var dial []grpc.DialOption
		if withClient {
			dial = append(dial, grpc.WithChainUnaryInterceptor(volumesgrpc.DeferSyncClientInterceptor))
		}
		srv := grpc.NewServer(grpc.ChainUnaryInterceptor(volumesgrpc.DeferSyncServerInterceptor))
		conn := grpctest.ConnWith(t, srv, func(s *grpc.Server) { volumesgrpc.Concern.Serve(s, fake) }, dial...)
		c := volumesgrpc.NewClient(conn)
		marked := volumes.DeferSync(context.Background())
		if err := c.WriteFile(marked, "/home/a/marked", []byte("x"), owner); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteFile(context.Background(), "/home/a/plain", []byte("x"), owner); err != nil {
			t.Fatal(err)
		}
		want := []string{"/home/a/marked"}
		if !withClient {
			want = nil
		}
		if got := fake.DeferredWrites(); !slices.Equal(got, want) {
			t.Errorf("client interceptor %v: deferred writes %v, want %v", withClient, got, want)
		}
	}
}
