//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// TestVolumesSync drives volumes.DeferSync and Sync through the real btrfs
// plugin (on the sandbox's btrfs /home) and the real dir plugin (on ext4):
// a volume and a file made under DeferSync, then one Sync of the file and
// the directories up to the volume's parent, leave the file with its
// content, owner and mode; Sync refuses symlinks and FIFOs and reports a
// missing path as NotFound.
func TestVolumesSync(t *testing.T) {
	sandbox.Require(t)
	volOwners(t)
	for _, plugin := range []string{"btrfs", "dir"} {
		t.Run(plugin, func(t *testing.T) {
			v := dispense[volumes.Volumes](t, startPlugin(t, buildPlugin(t, plugin)), sdk.ConcernVolumes)
			var parent string
			if plugin == "btrfs" {
				parent = filepath.Join(sandbox.HomeRoot, "hcsync")
				if err := os.Mkdir(parent, 0o755); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Remove(parent) })
			} else {
				parent = volMount(t, "ext4")
			}
			home := filepath.Join(parent, "alice")
			t.Cleanup(func() { _ = v.DeleteVolume(context.Background(), home) })
			file := syncDeferredHome(t, v, home)
			syncRefusals(t, v, home, file)
		})
	}
}

// syncDeferredHome makes home and home/.ssh/authorized_keys under
// DeferSync, syncs them, checks the file and returns its path.
func syncDeferredHome(t *testing.T, v volumes.Volumes, home string) string {
	ctx := context.Background()
	deferred := volumes.DeferSync(ctx)
	if err := v.Sync(ctx, nil); err != nil {
		t.Fatalf("the probe Sync(nil): %v", err)
	}
	if _, err := v.CreateVolume(deferred, volSpec(home, 0)); err != nil {
		t.Fatal(err)
	}
	ssh := filepath.Join(home, ".ssh")
	if err := v.EnsureDir(ctx, ssh, volumes.Owner{UID: volUID, GID: volGID, Mode: 0o700}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(ssh, "authorized_keys")
	data := []byte(sshkeys.FakePublicKey("alice") + "\n")
	for range 2 { // a new file, then one replaced
		if err := v.WriteFile(deferred, file, data, volumes.Owner{UID: volUID, GID: volGID, Mode: 0o600}); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Sync(ctx, []string{file, ssh, home, filepath.Dir(home)}); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != string(data) {
		t.Errorf("content %q %v", got, err)
	}
	wantFile(t, file, syscall.S_IFREG|0o600, volUID, volGID)
	wantFile(t, home, syscall.S_IFDIR|0o755, volUID, volGID)
	if entries, _ := os.ReadDir(ssh); len(entries) != 1 {
		t.Errorf("left in %s: %v", ssh, entries)
	}
	return file
}

// syncRefusals: symlinks (at the path and on the way) and a FIFO are
// refused, missing paths are NotFound, each after a good path in the same
// call.
func syncRefusals(t *testing.T, v volumes.Volumes, home, file string) {
	ctx := context.Background()
	ssh := filepath.Dir(file)
	fileLink, dirLink, fifo := filepath.Join(ssh, "link"), filepath.Join(home, "sshlink"), filepath.Join(home, "fifo")
	if err := os.Symlink(file, fileLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ssh, dirLink); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		code sdkerr.Code
	}{
		{fileLink, sdkerr.InvalidArgument},
		{dirLink, sdkerr.InvalidArgument},
		{filepath.Join(dirLink, "authorized_keys"), sdkerr.FailedPrecondition},
		{fifo, sdkerr.InvalidArgument},
		{filepath.Join(ssh, "missing"), sdkerr.NotFound},
		{filepath.Join(home, "nodir", "missing"), sdkerr.NotFound},
		{home + "/../alice", sdkerr.InvalidArgument},
	} {
		if err := v.Sync(ctx, []string{file, tc.path}); !sdkerr.Is(err, tc.code) {
			t.Errorf("Sync(%s): want %s, got %v", tc.path, tc.code, err)
		}
	}
}
