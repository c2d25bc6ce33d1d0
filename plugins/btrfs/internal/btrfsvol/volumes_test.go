package btrfsvol

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

var errBoom = errors.New("boom")

// otherID is a second managed account's uid and gid in setup's fence.
const otherID = 5242

// setup returns Volumes on a fake backend within a fence whose root is
// the returned temporary directory, where the test's owner (fsutiltest)
// and otherID are managed accounts.
func setup(t *testing.T) (*Volumes, *fakeBackend, string) {
	t.Helper()
	root := t.TempDir()
	env := fsutiltest.New(t, "btrfs", root)
	env.AddUser(t, "other", otherID, true)
	f := newFake()
	v := New(f, env.Fence)
	v.QgroupWait = 50 * time.Millisecond
	return v, f, root
}

func owner(mode uint32) volumes.Owner {
	uid, gid := fsutiltest.Owner()
	return volumes.Owner{UID: uid, GID: gid, Mode: mode}
}

func spec(path string, quota uint64) volumes.VolumeSpec {
	return volumes.VolumeSpec{Path: path, QuotaBytes: quota, Owner: owner(0o750)}
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
	if !reflect.DeepEqual(got, volumes.Volume{Path: path, Kind: volumes.KindSubvolume, QuotaBytes: 1 << 30, UsedBytes: 16384}) {
		t.Errorf("volume %+v", got)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o750 {
		t.Errorf("mode %v %v", st, err)
	}
	if n := names(t, root); n != "alice" {
		t.Errorf("left in the parent: %s", n)
	}
	if f.count("EnableQuota") != 1 || f.limits[volumeGroup(256)] != 1<<30 || !slices.Contains(f.parents[256], volumeGroup(256)) {
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
	other.Owner.UID, other.Owner.GID = otherID, otherID
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
	// 0/256 busy three times, then gone; then its group 1/256.
	if n := names(t, root); n != "" || len(f.subs) != 0 || len(f.qgroups) != 0 || f.count("DestroyQgroup") != 5 {
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
	if want := spec(path, 0).Owner; got.Owner == nil || *got.Owner != want {
		t.Errorf("owner %+v, want %+v", got.Owner, want)
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
	fileOwner := owner(0o600)
	if err := v.WriteFile(ctx, file, []byte("x\n"), fileOwner); err != nil {
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

// TestSetQuotaBelowUsage: a limit below what the volume holds is refused
// and changes nothing; one at or above it is set.
func TestSetQuotaBelowUsage(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "carol")
	if _, err := v.CreateVolume(ctx, spec(path, 64<<20)); err != nil {
		t.Fatal(err)
	}
	f.used[volumeGroup(256)] = 10 << 20
	_, err := v.SetQuota(ctx, path, 1024)
	if !sdkerr.Is(err, sdkerr.FailedPrecondition) || !strings.Contains(err.Error(), "below the 10485760 bytes") {
		t.Errorf("SetQuota(1K) of a volume holding 10 MiB: %v", err)
	}
	if f.limits[volumeGroup(256)] != 64<<20 {
		t.Errorf("the refused limit changed the group's: %d", f.limits[volumeGroup(256)])
	}
	if got, err := v.SetQuota(ctx, path, 10<<20); err != nil || got.QuotaBytes != 10<<20 {
		t.Errorf("SetQuota at the usage: %+v %v", got, err)
	}
	spec := spec(path, 1024)
	if _, err := v.CreateVolume(ctx, spec); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("adopting with a limit below the usage: %v", err)
	}
	// From no limit, any limit below the usage is a lowering too.
	if _, err := v.SetQuota(ctx, path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetQuota(ctx, path, 5<<20); !sdkerr.Is(err, sdkerr.FailedPrecondition) || f.limits[volumeGroup(256)] != 0 {
		t.Errorf("SetQuota(5M) of an unlimited volume holding 10 MiB: %v, limit %d", err, f.limits[volumeGroup(256)])
	}
}

// TestRaiseOverLimit: a volume over its limit (a limit set by hand, or a
// nested subvolume brought under it late) still takes the same limit, a
// higher one, none, and one at its usage: every qgroup call goes through
// the parent, which the kernel does not hold to the volume's limit.
func TestRaiseOverLimit(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "carol")
	if _, err := v.CreateVolume(ctx, spec(path, 64<<20)); err != nil {
		t.Fatal(err)
	}
	f.limits[volumeGroup(256)], f.used[volumeGroup(256)] = 1024, 10<<20
	// Re-applying the limit it is over brings it back under it: not a
	// lowering, so not refused.
	for _, q := range []uint64{1024, 128 << 20, 0, 10 << 20} {
		if got, err := v.SetQuota(ctx, path, q); err != nil || got.QuotaBytes != q {
			t.Errorf("SetQuota(%d) over the limit: %+v %v", q, got, err)
		}
	}
}

// TestNestedCovered: SetQuota makes every subvolume inside the volume a
// member of its group, moves a limit left on the volume's own qgroup to
// the group, and GetUsage lists what is not covered.
func TestNestedCovered(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "dave")
	if _, err := v.CreateVolume(ctx, spec(path, 0)); err != nil {
		t.Fatal(err)
	}
	f.quota, f.qgroups[256] = true, true
	f.limits[256] = 32 << 20 // a limit made before groups
	f.nested[256] = []SubvolEntry{{ID: 300, Path: "stash"}, {ID: 301, Path: "a/b/deep"}}
	got, err := v.GetUsage(ctx, path)
	if want := []string{path + "/stash", path + "/a/b/deep"}; err != nil || got.QuotaBytes != 32<<20 || !slices.Equal(got.Uncovered, want) {
		t.Errorf("GetUsage before: %+v %v, want uncovered %v", got, err, want)
	}
	got, err = v.SetQuota(ctx, path, 32<<20)
	if err != nil || len(got.Uncovered) != 0 || got.QuotaBytes != 32<<20 {
		t.Errorf("SetQuota: %+v %v", got, err)
	}
	for _, id := range []uint64{256, 300, 301} {
		if !slices.Contains(f.parents[id], volumeGroup(256)) {
			t.Errorf("0/%d is not in the group: %v", id, f.parents)
		}
	}
	if f.limits[256] != 0 || f.limits[volumeGroup(256)] != 32<<20 {
		t.Errorf("limits %v: want the group's only", f.limits)
	}
	f.nested[256] = append(f.nested[256], SubvolEntry{ID: 302, Path: "late"})
	if got, _ := v.GetUsage(ctx, path); !slices.Equal(got.Uncovered, []string{path + "/late"}) {
		t.Errorf("GetUsage after a new nested subvolume: %+v", got)
	}
}

// TestFenceRefusesOutside: called directly, without the sdk's FenceVolumes
// in front, the implementation still refuses paths outside its fence and
// owners that are not managed, before the backend is asked anything.
func TestFenceRefusesOutside(t *testing.T) {
	v, f, root := setup(t)
	outside := t.TempDir()
	ctx := context.Background()
	refused := map[string]error{}
	_, refused["CreateVolume outside"] = v.CreateVolume(ctx, spec(filepath.Join(outside, "alice"), 0))
	_, refused["CreateVolume at a root"] = v.CreateVolume(ctx, spec(root, 0))
	unmanaged := spec(filepath.Join(root, "alice"), 0)
	unmanaged.Owner.UID = 1
	_, refused["CreateVolume for an unmanaged uid"] = v.CreateVolume(ctx, unmanaged)
	refused["DeleteVolume outside"] = v.DeleteVolume(ctx, filepath.Join(outside, "x"))
	refused["WriteFile outside"] = v.WriteFile(ctx, filepath.Join(outside, "f"), nil, owner(0o600))
	refused["EnsureDir outside"] = v.EnsureDir(ctx, filepath.Join(outside, "d"), owner(0o700))
	_, refused["Snapshot to outside"] = v.Snapshot(ctx, volumes.SnapshotSpec{Source: filepath.Join(root, "a"), Dest: filepath.Join(outside, "s")})
	refused["Sync outside"] = v.Sync(ctx, []string{outside})
	for what, err := range refused {
		if !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: want permission_denied, got %v", what, err)
		}
	}
	if n := names(t, outside); n != "" || len(f.calls) != 0 {
		t.Errorf("outside holds %q; backend calls %v", n, f.calls)
	}
}

// TestDeleteSweepsKilledCreates: a create killed between making its
// temporary subvolume and renaming it into place leaves
// ".<name>.creating-*"; deleting the volume (the host's rollback) removes
// it too, and leaves another name's alone.
func TestDeleteSweepsKilledCreates(t *testing.T) {
	v, f, root := setup(t)
	ctx := context.Background()
	dirfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	for _, name := range []string{tempName("alice", "creating"), tempName("alicia", "creating")} {
		if err := f.CreateSubvolume(ctx, dirfd, name); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.DeleteVolume(ctx, filepath.Join(root, "alice")); err != nil {
		t.Fatal(err)
	}
	if n := names(t, root); !strings.HasPrefix(n, ".alicia.creating-") || strings.Contains(n, ".alice.") {
		t.Errorf("left in the parent: %s", n)
	}
}
