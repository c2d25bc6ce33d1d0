package btrfsvol

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

var errBoom = errors.New("boom")

func setup(t *testing.T) (*Volumes, *fakeBackend, string) {
	t.Helper()
	f := newFake()
	v := New(f)
	v.QgroupWait = 50 * time.Millisecond
	return v, f, t.TempDir()
}

func spec(path string, quota uint64) volumes.VolumeSpec {
	return volumes.VolumeSpec{Path: path, QuotaBytes: quota,
		Owner: volumes.Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Mode: 0o750}}
}

// names lists dir, to see what a call left behind.
func names(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return strings.Join(out, ",")
}

func TestCreateVolume(t *testing.T) {
	v, f, root := setup(t)
	path := filepath.Join(root, "alice")
	got, err := v.CreateVolume(context.Background(), spec(path, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	if got != (volumes.Volume{Path: path, Kind: volumes.KindSubvolume, QuotaBytes: 1 << 30, UsedBytes: 16384}) {
		t.Errorf("volume %+v", got)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o750 {
		t.Errorf("mode %v %v", st, err)
	}
	if n := names(t, root); n != "alice" {
		t.Errorf("left in the parent: %s", n)
	}
	if f.count("EnableQuota") != 1 || f.limits[256] != 1<<30 {
		t.Errorf("calls %v limits %v", f.calls, f.limits)
	}
	// Again: adopted, mode repaired, no second subvolume.
	os.Chmod(path, 0o700)
	if _, err := v.CreateVolume(context.Background(), spec(path, 1<<30)); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); f.count("CreateSubvolume") != 1 || st.Mode().Perm() != 0o750 {
		t.Errorf("second create: calls %v mode %v", f.calls, st.Mode())
	}
	other := spec(path, 0)
	other.Owner.UID++
	if _, err := v.CreateVolume(context.Background(), other); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("another owner: %v", err)
	}
}

func TestCreateNoQuota(t *testing.T) {
	v, f, root := setup(t)
	got, err := v.CreateVolume(context.Background(), spec(filepath.Join(root, "bob"), 0))
	if err != nil || got.QuotaBytes != 0 || f.count("EnableQuota") != 0 || f.count("SetLimit") != 0 {
		t.Errorf("%+v %v, calls %v", got, err, f.calls)
	}
}

func TestCreateRefuses(t *testing.T) {
	v, _, root := setup(t)
	os.Mkdir(filepath.Join(root, "plain"), 0o755)
	os.WriteFile(filepath.Join(root, "file"), nil, 0o644)
	os.Symlink(filepath.Join(root, "plain"), filepath.Join(root, "link"))
	cases := map[string]sdkerr.Code{
		"plain": sdkerr.FailedPrecondition, "file": sdkerr.FailedPrecondition, "link": sdkerr.FailedPrecondition,
		"link/inner": sdkerr.FailedPrecondition, "missing/inner": sdkerr.FailedPrecondition,
	}
	for name, code := range cases {
		if _, err := v.CreateVolume(context.Background(), spec(filepath.Join(root, name), 0)); !sdkerr.Is(err, code) {
			t.Errorf("%s: want %s, got %v", name, code, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "plain", "inner")); !os.IsNotExist(err) {
		t.Error("created through a symlink")
	}
	if _, err := v.CreateVolume(context.Background(), spec("/home", 0)); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("/home: %v", err)
	}
}

// TestCreateRollback fails each step after the temporary subvolume exists
// and checks nothing is left: no directory, no subvolume, no qgroup.
func TestCreateRollback(t *testing.T) {
	for _, step := range []string{"SubvolInfo", "SetLimit", "EnableQuota"} {
		t.Run(step, func(t *testing.T) {
			v, f, root := setup(t)
			f.quota = step != "EnableQuota"
			f.failOne[step] = errBoom
			_, err := v.CreateVolume(context.Background(), spec(filepath.Join(root, "alice"), 1<<20))
			if !errors.Is(err, errBoom) {
				t.Fatalf("want boom, got %v", err)
			}
			if n := names(t, root); n != "" || len(f.subs) != 0 || len(f.qgroups) != 0 {
				t.Errorf("left: dir %q, subvolumes %v, qgroups %v (calls %v)", n, f.subs, f.qgroups, f.calls)
			}
		})
	}
}

func TestDeleteVolume(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "alice")
	if _, err := v.CreateVolume(ctx, spec(path, 1<<20)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(path, "f"), []byte("x"), 0o644)
	f.busy = 3 // the kernel's cleaner is still at work for a while
	for range 2 {
		if err := v.DeleteVolume(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	if n := names(t, root); n != "" || len(f.subs) != 0 || len(f.qgroups) != 0 || f.count("DestroyQgroup") != 4 {
		t.Errorf("left: %q %v %v, calls %v", n, f.subs, f.qgroups, f.calls)
	}
	plain := filepath.Join(root, "plain")
	os.Mkdir(plain, 0o755)
	if err := v.DeleteVolume(ctx, plain); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("plain directory: %v", err)
	}
	os.Symlink(plain, filepath.Join(root, "link"))
	if err := v.DeleteVolume(ctx, filepath.Join(root, "link")); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("symlink: %v", err)
	}
	if _, err := os.Stat(plain); err != nil {
		t.Error("the plain directory is gone")
	}
	if err := v.DeleteVolume(ctx, filepath.Join(root, "nothing", "here")); err != nil {
		t.Errorf("missing parent: %v", err)
	}
}

// TestDeleteQgroupStaysBusy: when the kernel keeps the qgroup busy past
// QgroupWait, the delete still succeeds and says so in a warning.
func TestDeleteQgroupStaysBusy(t *testing.T) {
	v, f, root := setup(t)
	var warned []string
	v.Warn = func(msg string, _ ...any) { warned = append(warned, msg) }
	path := filepath.Join(root, "alice")
	if _, err := v.CreateVolume(context.Background(), spec(path, 1<<20)); err != nil {
		t.Fatal(err)
	}
	f.busy = 1 << 30
	if err := v.DeleteVolume(context.Background(), path); err != nil || len(warned) != 1 {
		t.Errorf("err %v, warnings %v", err, warned)
	}
}

func TestQuotaAndUsage(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "alice")
	v.CreateVolume(ctx, spec(path, 0))
	os.WriteFile(filepath.Join(path, "f"), make([]byte, 64<<10), 0o644)
	got, err := v.GetUsage(ctx, path)
	if err != nil || got.QuotaBytes != 0 || got.UsedBytes < 64<<10 {
		t.Errorf("usage without quotas (counted): %+v %v", got, err)
	}
	if _, err := v.SetQuota(ctx, path, 0); err != nil || f.quota {
		t.Errorf("clearing a limit enabled quotas: %v %v", err, f.calls)
	}
	got, err = v.SetQuota(ctx, path, 5<<20)
	if err != nil || got.QuotaBytes != 5<<20 || !f.quota {
		t.Errorf("SetQuota: %+v %v", got, err)
	}
	if _, err := v.GetUsage(ctx, filepath.Join(root, "nobody")); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("missing: %v", err)
	}
	os.Mkdir(filepath.Join(root, "plain"), 0o755)
	if _, err := v.SetQuota(ctx, filepath.Join(root, "plain"), 1); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("plain: %v", err)
	}
}

func TestSnapshots(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "alice")
	v.CreateVolume(ctx, spec(path, 0))
	dest := filepath.Join(root, ".snapshots", "alice", "t1")
	ro := volumes.SnapshotSpec{Source: path, Dest: dest, ReadOnly: true}
	for range 2 {
		s, err := v.Snapshot(ctx, ro)
		if err != nil || s.Path != dest || !s.ReadOnly || s.Source != path {
			t.Fatalf("%+v %v", s, err)
		}
	}
	if f.count("Snapshot") != 1 {
		t.Errorf("snapshot taken twice: %v", f.calls)
	}
	if st, err := os.Stat(filepath.Dir(dest)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("snapshot dir: %v %v", st, err)
	}
	rw := ro
	rw.ReadOnly = false
	if _, err := v.Snapshot(ctx, rw); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("flipped: %v", err)
	}
	inside := volumes.SnapshotSpec{Source: path, Dest: filepath.Join(path, "snap")}
	if _, err := v.Snapshot(ctx, inside); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("inside: %v", err)
	}
	if err := v.DeleteSnapshot(ctx, path); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("DeleteSnapshot of a volume: %v", err)
	}
	for range 2 {
		if err := v.DeleteSnapshot(ctx, dest); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Lstat(dest); !os.IsNotExist(err) || len(f.subs) != 1 {
		t.Errorf("snapshot left: %v %v", err, f.subs)
	}
}

// TestInconsistentAccounting: a limit set while the kernel holds the
// qgroup accounting inconsistent (so unenforced) starts a rescan.
func TestInconsistentAccounting(t *testing.T) {
	v, f, root := setup(t)
	var warned []string
	v.Warn = func(msg string, _ ...any) { warned = append(warned, msg) }
	f.quota, f.inconsistent = true, true
	if _, err := v.CreateVolume(context.Background(), spec(filepath.Join(root, "alice"), 1<<20)); err != nil {
		t.Fatal(err)
	}
	if f.count("StartRescan") != 1 || f.inconsistent || len(warned) != 0 {
		t.Errorf("calls %v, inconsistent %v, warnings %v", f.calls, f.inconsistent, warned)
	}
	// A rescan that cannot start is a warning, not a failed create.
	f.inconsistent, f.failOne["StartRescan"] = true, errBoom
	if _, err := v.CreateVolume(context.Background(), spec(filepath.Join(root, "bob"), 1<<20)); err != nil || len(warned) != 1 {
		t.Errorf("err %v, warnings %v", err, warned)
	}
}

// TestDeferredCreateWriteSync: under DeferSync the volume and a file in it
// come out as without it, and Sync takes the file, the volume and its
// parent, refusing a symlink.
func TestDeferredCreateWriteSync(t *testing.T) {
	v, _, root := setup(t)
	ctx := volumes.DeferSync(context.Background())
	path := filepath.Join(root, "alice")
	if _, err := v.CreateVolume(ctx, spec(path, 0)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(path, "cfg.toml")
	owner := volumes.Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Mode: 0o600}
	if err := v.WriteFile(ctx, file, []byte("x\n"), owner); err != nil {
		t.Fatal(err)
	}
	if err := v.Sync(ctx, []string{file, path, root}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != "x\n" || names(t, root) != "alice" || names(t, path) != "cfg.toml" {
		t.Errorf("file %q, %s holds %s, %s holds %s", b, root, names(t, root), path, names(t, path))
	}
	os.Symlink(file, filepath.Join(path, "link"))
	if err := v.Sync(ctx, []string{filepath.Join(path, "link")}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("symlink: %v", err)
	}
}
