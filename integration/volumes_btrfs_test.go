//go:build integration

package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

const (
	volUID   = 4242
	volGID   = 4243
	volMiB   = 1 << 20
	backendE = "HERO_CODESCALERS_BTRFS_BACKEND="
)

var volBackends = []string{"ioctl", "tool"}

// TestVolumesBtrfs drives the btrfs plugin (each backend) through the
// sdk and checks every effect with the real btrfs tool.
func TestVolumesBtrfs(t *testing.T) {
	sandbox.Require(t)
	volOwners(t)
	bin := buildPlugin(t, "btrfs")
	for _, backend := range volBackends {
		t.Run(backend, func(t *testing.T) {
			// The sandbox's /home is shared by the whole test binary: the
			// subvolumes earlier tests deleted are still being dropped by
			// the kernel's cleaner, and dropping a tall tree marks the
			// accounting inconsistent on its own. Wait for the cleaner, then
			// start from a consistent state, so the check at the end judges
			// this plugin's work alone.
			mustRun(t, "btrfs", "subvolume", "sync", sandbox.HomeRoot)
			if btrfsInconsistent(t, sandbox.HomeRoot) {
				mustRun(t, "btrfs", "quota", "rescan", "-W", sandbox.HomeRoot)
			}
			v := dispense[volumes.Volumes](t, startPlugin(t, bin, backendE+backend), sdk.ConcernVolumes)
			name := "hcvol-" + backend
			path := filepath.Join(sandbox.HomeRoot, name)
			t.Cleanup(func() { _ = v.DeleteVolume(context.Background(), path) })
			t.Run("create", func(t *testing.T) { btrfsCreate(t, v, path, name) })
			t.Run("idempotent", func(t *testing.T) { btrfsIdempotent(t, v, path, name) })
			t.Run("refusals", func(t *testing.T) { btrfsRefusals(t, v, name) })
			t.Run("quota-enforced", func(t *testing.T) { btrfsQuotaEnforced(t, v, path) })
			t.Run("set-quota", func(t *testing.T) { btrfsSetQuota(t, v, path, name) })
			t.Run("snapshots", func(t *testing.T) { btrfsSnapshots(t, v, path, name) })
			t.Run("delete", func(t *testing.T) { btrfsDelete(t, v, path, name) })
			if btrfsInconsistent(t, sandbox.HomeRoot) {
				t.Error("the plugin's work left the qgroup accounting inconsistent (limits unenforced)")
			}
		})
	}
}

func volSpec(path string, quota uint64) volumes.VolumeSpec {
	return volumes.VolumeSpec{Path: path, Owner: volumes.Owner{UID: volUID, GID: volGID, Mode: 0o755}, QuotaBytes: quota}
}

func btrfsCreate(t *testing.T, v volumes.Volumes, path, name string) {
	ctx := context.Background()
	got, err := v.CreateVolume(ctx, volSpec(path, 32*volMiB))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != volumes.KindSubvolume || got.QuotaBytes != 32*volMiB || got.Path != path {
		t.Errorf("CreateVolume returned %+v", got)
	}
	id, ok := btrfsSubvols(t, sandbox.HomeRoot)[name]
	if !ok {
		t.Fatalf("btrfs subvolume list lacks %s", name)
	}
	q, ok := btrfsQgroups(t, sandbox.HomeRoot)[groupOf(id)]
	if !ok || q.MaxRef != "33554432" {
		t.Errorf("btrfs qgroup show: %s = %+v (present %v), want max referenced 33554432", groupOf(id), q, ok)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if sys.Uid != volUID || sys.Gid != volGID || st.Mode().Perm() != 0o755 || sys.Ino != 256 {
		t.Errorf("%s: uid %d gid %d mode %v ino %d", path, sys.Uid, sys.Gid, st.Mode(), sys.Ino)
	}
	for p := range btrfsSubvols(t, sandbox.HomeRoot) {
		if strings.Contains(p, ".creating-") {
			t.Errorf("temporary subvolume left: %s", p)
		}
	}
}

func btrfsIdempotent(t *testing.T, v volumes.Volumes, path, name string) {
	ctx := context.Background()
	before := btrfsSubvols(t, sandbox.HomeRoot)
	if err := os.Chmod(path, 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := v.CreateVolume(ctx, volSpec(path, 32*volMiB))
	if err != nil {
		t.Fatalf("second create: %v", err)
	}
	after := btrfsSubvols(t, sandbox.HomeRoot)
	if len(after) != len(before) || after[name] != before[name] {
		t.Errorf("second create changed the subvolumes: %v → %v", before, after)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o755 || got.QuotaBytes != 32*volMiB {
		t.Errorf("second create: mode %v (want repaired to 0755), volume %+v", st.Mode(), got)
	}
	other := volSpec(path, 32*volMiB)
	other.Owner.UID++
	if _, err := v.CreateVolume(ctx, other); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("create with another owner: want already_exists, got %v", err)
	}
}

// btrfsRefusals: a plain directory and a symlink are never taken for a
// volume, neither by create nor by delete, and what they hold survives.
func btrfsRefusals(t *testing.T, v volumes.Volumes, name string) {
	ctx := context.Background()
	plain := filepath.Join(sandbox.HomeRoot, name+"-plain")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(plain) })
	keep := filepath.Join(plain, "keep")
	os.WriteFile(keep, []byte("keep"), 0o644)
	if _, err := v.CreateVolume(ctx, volSpec(plain, 0)); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("create over a plain directory: want failed_precondition, got %v", err)
	}
	if err := v.DeleteVolume(ctx, plain); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("delete of a plain directory: want failed_precondition, got %v", err)
	}
	link := filepath.Join(sandbox.HomeRoot, name+"-link")
	if err := os.Symlink(plain, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(link) })
	if _, err := v.CreateVolume(ctx, volSpec(link, 0)); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("create over a symlink: want failed_precondition, got %v", err)
	}
	if err := v.DeleteVolume(ctx, link); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("delete of a symlink: want failed_precondition, got %v", err)
	}
	if _, err := v.CreateVolume(ctx, volSpec(filepath.Join(link, "inner"), 0)); err == nil {
		t.Error("create through a symlinked parent succeeded")
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "keep" {
		t.Errorf("the plain directory's file changed: %q %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(plain, "inner")); !os.IsNotExist(err) {
		t.Errorf("create followed the symlink: %v", err)
	}
	if err := v.DeleteVolume(ctx, sandbox.HomeRoot); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of the home root, a root of the policy: want permission_denied, got %v", err)
	}
}

// btrfsQuotaEnforced writes past the limit as the volume's owner: the
// kernel refuses with EDQUOT, and the usage reported is near the limit.
func btrfsQuotaEnforced(t *testing.T, v volumes.Volumes, path string) {
	f := filepath.Join(path, "fill")
	cmd := exec.Command("dd", "if=/dev/zero", "of="+f, "bs=1M", "count=48", "conv=fsync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: volUID, Gid: volGID}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Disk quota exceeded") {
		q, _ := exec.Command("btrfs", "qgroup", "show", "-re", "--raw", sandbox.HomeRoot).CombinedOutput()
		s, _ := exec.Command("btrfs", "quota", "rescan", "-s", sandbox.HomeRoot).CombinedOutput()
		t.Fatalf("writing 48 MiB into a 32 MiB volume: want EDQUOT, got %v: %s\n%s\n%s", err, out, q, s)
	}
	mustRun(t, "btrfs", "filesystem", "sync", sandbox.HomeRoot)
	got, err := v.GetUsage(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if got.QuotaBytes != 32*volMiB || got.UsedBytes < 16*volMiB || got.UsedBytes > 33*volMiB {
		t.Errorf("GetUsage after filling: %+v, want ~32 MiB used of 32 MiB", got)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	// Root is bound by the qgroup too.
	err = os.WriteFile(f, make([]byte, 40*volMiB), 0o644)
	if !errors.Is(err, syscall.EDQUOT) {
		t.Errorf("root writing 40 MiB: want EDQUOT, got %v", err)
	}
	os.Remove(f)
}

func btrfsSetQuota(t *testing.T, v volumes.Volumes, path, name string) {
	ctx := context.Background()
	id := btrfsSubvols(t, sandbox.HomeRoot)[name]
	for _, c := range []struct {
		bytes uint64
		want  string
	}{{128 * volMiB, "134217728"}, {0, "none"}, {32 * volMiB, "33554432"}} {
		got, err := v.SetQuota(ctx, path, c.bytes)
		if err != nil || got.QuotaBytes != c.bytes {
			t.Fatalf("SetQuota(%d): %+v %v", c.bytes, got, err)
		}
		if q := btrfsQgroups(t, sandbox.HomeRoot)[groupOf(id)]; q.MaxRef != c.want {
			t.Errorf("after SetQuota(%d) btrfs says max referenced %q, want %q", c.bytes, q.MaxRef, c.want)
		}
	}
	if _, err := v.SetQuota(ctx, filepath.Join(sandbox.HomeRoot, name+"-missing"), volMiB); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("SetQuota of a missing volume: want not_found, got %v", err)
	}
}
