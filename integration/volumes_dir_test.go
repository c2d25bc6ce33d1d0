//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// volMount mounts fstype (a loop image for ext4, or tmpfs) at a fresh
// directory inside the sandbox's mount namespace and unmounts it at
// cleanup; a loop device set up by mount -o loop is released with it.
func volMount(t *testing.T, fstype string) string {
	t.Helper()
	dir := homeTempDir(t, "hcmnt-") // beneath the policy's home root
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt}
	if fstype == "ext4" {
		img := filepath.Join(dir, "ext4.img")
		for _, c := range [][]string{{"truncate", "-s", "64M", img}, {"mkfs.ext4", "-q", "-F", img}} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v %s", c, err, out)
			}
		}
		args = []string{"-o", "loop", img, mnt}
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v: %v %s", args, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
		if fstype == "ext4" {
			out, _ := exec.Command("losetup", "-j", filepath.Join(dir, "ext4.img")).CombinedOutput()
			if strings.TrimSpace(string(out)) != "" {
				t.Errorf("loop device left attached: %s", out)
			}
		}
	})
	return mnt
}

// TestVolumesDir drives the dir plugin on an ext4 loop filesystem.
func TestVolumesDir(t *testing.T) {
	sandbox.Require(t)
	volOwners(t)
	bin := buildPlugin(t, "dir")
	v := dispense[volumes.Volumes](t, startPlugin(t, bin), sdk.ConcernVolumes)
	root := volMount(t, "ext4")
	ctx := context.Background()
	path := filepath.Join(root, "alice")
	t.Run("create", func(t *testing.T) {
		for range 2 {
			got, err := v.CreateVolume(ctx, volSpec(path, 0))
			if err != nil || got.Kind != volumes.KindDirectory {
				t.Fatalf("%+v %v", got, err)
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != volUID || sys.Gid != volGID || st.Mode().Perm() != 0o755 {
			t.Errorf("owner %d:%d mode %v", sys.Uid, sys.Gid, st.Mode())
		}
		other := volSpec(path, 0)
		other.Owner.UID = volUID + 1 // another managed account
		if _, err := v.CreateVolume(ctx, other); !sdkerr.Is(err, sdkerr.AlreadyExists) {
			t.Errorf("another owner: %v", err)
		}
		other.Owner.UID = 1 // not a managed account: the fence refuses it first
		if _, err := v.CreateVolume(ctx, other); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("an unmanaged owner: %v", err)
		}
		if _, err := v.CreateVolume(ctx, volSpec(filepath.Join(root, "bob"), volMiB)); !sdkerr.Is(err, sdkerr.FailedPrecondition) ||
			!strings.Contains(err.Error(), "quotas unsupported by the dir plugin") {
			t.Errorf("create with a quota: %v", err)
		}
		if _, err := v.SetQuota(ctx, path, volMiB); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("SetQuota: %v", err)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(path, "f"), make([]byte, 2*volMiB), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := v.GetUsage(ctx, path)
		if err != nil || got.UsedBytes < 2*volMiB || got.UsedBytes > 3*volMiB || got.QuotaBytes != 0 {
			t.Errorf("GetUsage = %+v, %v", got, err)
		}
	})
	t.Run("delete-refuses-mount-point", func(t *testing.T) { dirMountInside(t, v, path) })
	t.Run("delete", func(t *testing.T) { dirDelete(t, v, root, path) })
}

// dirMountInside: a filesystem mounted inside a volume stops its deletion
// before anything is removed, and its files survive.
func dirMountInside(t *testing.T, v volumes.Volumes, path string) {
	inner := filepath.Join(path, "mnt")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", inner).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(inner, "precious"), []byte("keep"), 0o644)
	err := v.DeleteVolume(context.Background(), path)
	b, rerr := os.ReadFile(filepath.Join(inner, "precious"))
	if out, uerr := exec.Command("umount", inner).CombinedOutput(); uerr != nil {
		t.Fatalf("umount: %v %s", uerr, out)
	}
	if !sdkerr.Is(err, sdkerr.FailedPrecondition) || !strings.Contains(err.Error(), "mount point") {
		t.Errorf("delete with a mount inside: %v", err)
	}
	if rerr != nil || string(b) != "keep" {
		t.Errorf("the mounted filesystem's file: %q %v", b, rerr)
	}
	if _, err := os.Stat(filepath.Join(path, "f")); err != nil {
		t.Errorf("the refused delete removed files: %v", err)
	}
}

// dirDelete: the tree goes, symlinks in it are removed and not followed.
func dirDelete(t *testing.T, v volumes.Volumes, root, path string) {
	outside := filepath.Join(sandbox.HomeRoot, "hcvol-dir-outside")
	os.MkdirAll(outside, 0o755)
	t.Cleanup(func() { os.RemoveAll(outside) })
	os.WriteFile(filepath.Join(outside, "keep"), []byte("keep"), 0o644)
	os.MkdirAll(filepath.Join(path, "a", "b"), 0o700)
	os.Symlink(outside, filepath.Join(path, "a", "b", "out"))
	os.Symlink(filepath.Join(outside, "keep"), filepath.Join(path, "keeplink"))
	exec.Command("chown", "-R", "4242:4243", path).Run()
	for range 2 {
		if err := v.DeleteVolume(context.Background(), path); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 || entries[0].Name() != "lost+found" {
		t.Errorf("left in %s: %v", root, entries)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "keep")); err != nil || string(b) != "keep" {
		t.Errorf("followed a symlink: %q %v", b, err)
	}
	if err := v.DeleteVolume(context.Background(), root); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("delete of a mount point itself: want failed_precondition, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "lost+found")); err != nil {
		t.Errorf("deleting the mount point removed its contents: %v", err)
	}
}

// TestVolumesDirConformance runs the conformance kit on the dir plugin on
// ext4, tmpfs and the sandbox's btrfs /home.
func TestVolumesDirConformance(t *testing.T) {
	sandbox.Require(t)
	bin := buildPlugin(t, "dir")
	for _, fs := range []string{"ext4", "tmpfs", "btrfs"} {
		t.Run(fs, func(t *testing.T) {
			var scratch string
			if fs == "btrfs" {
				dir, err := os.MkdirTemp(sandbox.HomeRoot, "hcvol-dir-ptest-")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				scratch = dir
			} else {
				scratch = filepath.Join(volMount(t, fs), "scratch")
				os.Mkdir(scratch, 0o755)
			}
			rep := plugintest.Run(t, bin, plugintest.Options{ScratchDir: scratch, Destructive: true})
			if res, _ := rep.Result("idempotency/volumes"); res.Status != plugintest.Pass {
				t.Errorf("idempotency/volumes did not pass: %+v", res)
			}
			if res, _ := rep.Result("probe"); !strings.Contains(res.Reason, "quotas unsupported") {
				t.Errorf("probe does not say quotas are unsupported: %+v", res)
			}
		})
	}
}
