package dirvol

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// otherID is a second managed account's uid and gid in setup's fence.
const otherID = 5242

// setup returns Volumes within a fence whose root is a fresh temporary
// directory, returned too, where the test's owner (fsutiltest) and
// otherID are managed accounts.
func setup(t *testing.T) (Volumes, string) {
	t.Helper()
	root := t.TempDir()
	env := fsutiltest.New(t, "dir", root)
	env.AddUser(t, "other", otherID, true)
	return Volumes{Fence: env.Fence}, root
}

func owner(mode uint32) volumes.Owner {
	uid, gid := fsutiltest.Owner()
	return volumes.Owner{UID: uid, GID: gid, Mode: mode}
}

func spec(path string) volumes.VolumeSpec {
	return volumes.VolumeSpec{Path: path, Owner: owner(0o750)}
}

func TestCreateVolume(t *testing.T) {
	v, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "alice")
	for i := range 2 {
		got, err := v.CreateVolume(ctx, spec(path))
		if err != nil || !reflect.DeepEqual(got, volumes.Volume{Path: path, Kind: volumes.KindDirectory}) {
			t.Fatalf("%+v %v", got, err)
		}
		if i == 0 {
			os.Chmod(path, 0o700) // the second create repairs it
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o750 {
		t.Errorf("mode %v", st.Mode())
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("left in the parent: %v", entries)
	}
	other := spec(path)
	other.Owner.UID, other.Owner.GID = otherID, otherID
	if _, err := v.CreateVolume(ctx, other); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("another owner: %v", err)
	}
	quota := spec(filepath.Join(root, "bob"))
	quota.QuotaBytes = 1 << 30
	if _, err := v.CreateVolume(ctx, quota); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("quota: %v", err)
	}
	if _, err := os.Lstat(quota.Path); !os.IsNotExist(err) {
		t.Error("a refused create left a directory")
	}
	os.Symlink(root, filepath.Join(root, "link"))
	if _, err := v.CreateVolume(ctx, spec(filepath.Join(root, "link"))); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("symlink: %v", err)
	}
}

// TestDeleteVolume removes a tree holding a symlink to a directory
// outside and a symlink to a file outside: both links go, their targets
// stay.
func TestDeleteVolume(t *testing.T) {
	v, root := setup(t)
	ctx, outside := context.Background(), t.TempDir()
	path := filepath.Join(root, "alice")
	v.CreateVolume(ctx, spec(path))
	os.MkdirAll(filepath.Join(path, "a", "b", "c"), 0o755)
	os.WriteFile(filepath.Join(path, "a", "b", "c", "f"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(outside, "keep"), []byte("keep"), 0o644)
	os.Symlink(outside, filepath.Join(path, "a", "dirlink"))
	os.Symlink(filepath.Join(outside, "keep"), filepath.Join(path, "filelink"))
	for range 2 {
		if err := v.DeleteVolume(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("left: %v", entries)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "keep")); err != nil || string(b) != "keep" {
		t.Errorf("outside file: %q %v", b, err)
	}
	os.Symlink(outside, filepath.Join(root, "link"))
	if err := v.DeleteVolume(ctx, filepath.Join(root, "link")); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("symlink: %v", err)
	}
	os.WriteFile(filepath.Join(root, "file"), nil, 0o644)
	if err := v.DeleteVolume(ctx, filepath.Join(root, "file")); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("file: %v", err)
	}
	if err := v.DeleteVolume(ctx, filepath.Join(root, "link", "keep")); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("through a symlink: %v", err)
	}
	for _, p := range []string{"/home", "/"} {
		if err := v.DeleteVolume(ctx, p); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Error(err)
	}
}

func TestUsageQuotaSnapshots(t *testing.T) {
	v, root := setup(t)
	ctx := context.Background()
	path := filepath.Join(root, "alice")
	v.CreateVolume(ctx, spec(path))
	os.WriteFile(filepath.Join(path, "f"), make([]byte, 128<<10), 0o644)
	got, err := v.GetUsage(ctx, path)
	if err != nil || got.UsedBytes < 128<<10 || got.QuotaBytes != 0 || got.Kind != volumes.KindDirectory {
		t.Errorf("usage %+v %v", got, err)
	}
	if want := spec(path).Owner; got.Owner == nil || *got.Owner != want {
		t.Errorf("owner %+v, want %+v", got.Owner, want)
	}
	if _, err := v.SetQuota(ctx, path, 1<<30); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("SetQuota: %v", err)
	}
	if got, err := v.SetQuota(ctx, path, 0); err != nil || got.QuotaBytes != 0 {
		t.Errorf("SetQuota(0): %+v %v", got, err)
	}
	if _, err := v.GetUsage(ctx, filepath.Join(root, "nobody")); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("missing: %v", err)
	}
	snap := volumes.SnapshotSpec{Source: path, Dest: filepath.Join(root, "snap"), ReadOnly: true}
	if _, err := v.Snapshot(ctx, snap); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("Snapshot: %v", err)
	}
	if list, err := v.ListSnapshots(ctx, path); err != nil || len(list) != 0 {
		t.Errorf("ListSnapshots: %v %v", list, err)
	}
	if err := v.DeleteSnapshot(ctx, filepath.Join(root, "snap")); err != nil {
		t.Errorf("DeleteSnapshot of nothing: %v", err)
	}
	if err := v.DeleteSnapshot(ctx, path); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("DeleteSnapshot of a volume: %v", err)
	}
}

// TestDeferredWritesThenSync: under DeferSync the home and a file in it
// are made as without it, and Sync then takes the file, its directory and
// the home root; it refuses a symlink and reports a missing path.
func TestDeferredWritesThenSync(t *testing.T) {
	v, root := setup(t)
	ctx := volumes.DeferSync(context.Background())
	home := filepath.Join(root, "alice")
	if _, err := v.CreateVolume(ctx, spec(home)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(home, "cfg.toml")
	if err := v.WriteFile(ctx, file, []byte("token = 'x'\n"), owner(0o600)); err != nil {
		t.Fatal(err)
	}
	if err := v.Sync(ctx, []string{file, home, root}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != "token = 'x'\n" {
		t.Errorf("file %q", b)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	os.Symlink(file, filepath.Join(home, "link"))
	if err := v.Sync(ctx, []string{filepath.Join(home, "link")}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("symlink: %v", err)
	}
	if err := v.Sync(ctx, []string{filepath.Join(home, "missing")}); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := v.Sync(ctx, nil); err != nil {
		t.Errorf("probe: %v", err)
	}
}

// TestDeleteSweepsKilledCreates: what a create or a delete killed midway
// left beside the volume goes with its delete; another name's stays.
func TestDeleteSweepsKilledCreates(t *testing.T) {
	v, root := setup(t)
	ctx := context.Background()
	for _, name := range []string{tempName("bob", "creating"), tempName("bob", "deleting"), tempName("bobby", "creating")} {
		if err := os.MkdirAll(filepath.Join(root, name, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.DeleteVolume(ctx, filepath.Join(root, "bob")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), ".bobby.creating-") {
		t.Errorf("left: %v", entries)
	}
}
