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
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// btrfsSnapshots: read-only and writable snapshots as btrfs sees them,
// idempotent, listed by source, deleted with their qgroup.
func btrfsSnapshots(t *testing.T, v volumes.Volumes, path, name string) {
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(path, "data"), []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sandbox.HomeRoot, ".snapshots", name)
	ro := volumes.SnapshotSpec{Source: path, Dest: filepath.Join(dir, "t1"), ReadOnly: true}
	rw := volumes.SnapshotSpec{Source: path, Dest: filepath.Join(dir, "t2")}
	for _, spec := range []volumes.SnapshotSpec{ro, ro, rw} {
		s, err := v.Snapshot(ctx, spec)
		if err != nil || s.Path != spec.Dest || s.ReadOnly != spec.ReadOnly || s.Source != path || s.Created == 0 {
			t.Fatalf("Snapshot(%+v) = %+v, %v", spec, s, err)
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("snapshot directory %s: %v %v, want 0700", dir, st, err)
	}
	show := mustRun(t, "btrfs", "subvolume", "show", ro.Dest)
	uuid := btrfsField(mustRun(t, "btrfs", "subvolume", "show", path), "UUID")
	if btrfsField(show, "Flags") != "readonly" || btrfsField(show, "Parent UUID") != uuid {
		t.Errorf("btrfs subvolume show %s:\n%s\nwant readonly with parent UUID %s", ro.Dest, show, uuid)
	}
	if err := os.WriteFile(filepath.Join(ro.Dest, "data"), []byte("v2"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("writing into the read-only snapshot: want EROFS, got %v", err)
	}
	flipped := ro
	flipped.ReadOnly = false
	if _, err := v.Snapshot(ctx, flipped); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("writable snapshot over the read-only one: want already_exists, got %v", err)
	}
	list, err := v.ListSnapshots(ctx, path)
	if err != nil || len(list) != 2 || list[0].Path != ro.Dest || !list[0].ReadOnly || list[1].Path != rw.Dest || list[1].ReadOnly {
		t.Errorf("ListSnapshots = %+v, %v; want t1 (ro) and t2", list, err)
	}
	if err := v.DeleteSnapshot(ctx, path); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("DeleteSnapshot of the volume itself: want failed_precondition, got %v", err)
	}
	subs := btrfsSubvols(t, sandbox.HomeRoot)
	ids := []uint64{subs[".snapshots/"+name+"/t1"], subs[".snapshots/"+name+"/t2"]}
	for _, p := range []string{ro.Dest, rw.Dest, ro.Dest} {
		if err := v.DeleteSnapshot(ctx, p); err != nil {
			t.Fatalf("DeleteSnapshot(%s): %v", p, err)
		}
	}
	subs, qgs := btrfsSubvols(t, sandbox.HomeRoot), btrfsQgroups(t, sandbox.HomeRoot)
	for i, p := range []string{"t1", "t2"} {
		if _, ok := subs[".snapshots/"+name+"/"+p]; ok {
			t.Errorf("snapshot %s still listed by btrfs", p)
		}
		if _, ok := qgs[qgroupOf(ids[i])]; ok || ids[i] == 0 {
			t.Errorf("qgroup %s of snapshot %s still there (or id unknown)", qgroupOf(ids[i]), p)
		}
	}
	if list, err := v.ListSnapshots(ctx, path); err != nil || len(list) != 0 {
		t.Errorf("ListSnapshots after delete = %+v, %v", list, err)
	}
}

// btrfsField reads "Key: value" from `btrfs subvolume show`.
func btrfsField(show, key string) string {
	for _, line := range strings.Split(show, "\n") {
		k, val, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// btrfsDelete: the subvolume and its qgroup are gone from btrfs' own
// listings, and a second delete succeeds.
func btrfsDelete(t *testing.T, v volumes.Volumes, path, name string) {
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(path, "data"), make([]byte, 8*volMiB), 0o644); err != nil {
		t.Fatal(err)
	}
	// The owner's own subvolumes inside the home go with it.
	for _, p := range []string{"nested", "nested/deeper"} {
		cmd := exec.Command("btrfs", "subvolume", "create", filepath.Join(path, p))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: volUID, Gid: volGID}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the owner's btrfs subvolume create %s: %v %s", p, err, out)
		}
	}
	before := btrfsSubvols(t, sandbox.HomeRoot)
	nested := []uint64{before[name+"/nested"], before[name+"/nested/deeper"]}
	id, ok := before[name]
	if !ok {
		t.Fatalf("%s not a subvolume before delete", name)
	}
	if _, ok := btrfsQgroups(t, sandbox.HomeRoot)[qgroupOf(id)]; !ok {
		t.Fatalf("qgroup %s missing before delete", qgroupOf(id))
	}
	for range 2 {
		if err := v.DeleteVolume(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	after := btrfsSubvols(t, sandbox.HomeRoot)
	if _, ok := after[name]; ok || len(after) != len(before)-3 {
		t.Errorf("subvolumes before %v, after %v", before, after)
	}
	qgs := btrfsQgroups(t, sandbox.HomeRoot)
	for _, id := range append(nested, id) {
		if _, ok := qgs[qgroupOf(id)]; ok || id == 0 {
			t.Errorf("qgroup %s still shown by btrfs qgroup show after DeleteVolume (or id unknown)", qgroupOf(id))
		}
	}
	if _, ok := qgs[groupOf(id)]; ok {
		t.Errorf("group %s of the volume still shown by btrfs qgroup show after DeleteVolume", groupOf(id))
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", path, err)
	}
	if _, err := v.GetUsage(ctx, path); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("GetUsage after delete: want not_found, got %v", err)
	}
}

// TestVolumesBtrfsFailedCreate makes a create fail after the temporary
// subvolume exists (a faultinject build of the plugin) and checks that
// neither the subvolume, nor its qgroup, nor the volume is left.
func TestVolumesBtrfsFailedCreate(t *testing.T) {
	sandbox.Require(t)
	volOwners(t)
	bin := buildPlugin(t, "btrfs", "faultinject")
	// With quotas on, the temporary subvolume gets a qgroup, which the
	// failed create must remove too.
	mustRun(t, "btrfs", "quota", "enable", sandbox.HomeRoot)
	for _, backend := range volBackends {
		for _, fault := range []string{"limit", "info"} {
			t.Run(backend+"/"+fault, func(t *testing.T) {
				v := dispense[volumes.Volumes](t, startPlugin(t, bin, backendE+backend, "HERO_CODESCALERS_BTRFS_FAULT="+fault), sdk.ConcernVolumes)
				path := filepath.Join(sandbox.HomeRoot, "hcvol-fail-"+backend+"-"+fault)
				subs, qgs := btrfsSubvols(t, sandbox.HomeRoot), btrfsQgroups(t, sandbox.HomeRoot)
				_, err := v.CreateVolume(context.Background(), volSpec(path, 16*volMiB))
				if err == nil || !strings.Contains(err.Error(), "injected fault") {
					t.Fatalf("CreateVolume with fault %q: got %v", fault, err)
				}
				subs2, qgs2 := btrfsSubvols(t, sandbox.HomeRoot), btrfsQgroups(t, sandbox.HomeRoot)
				if len(subs2) != len(subs) {
					t.Errorf("subvolumes before %v, after the failed create %v", subs, subs2)
				}
				if len(qgs) == 0 || len(qgs2) != len(qgs) {
					t.Errorf("qgroups before %v, after the failed create %v", qgs, qgs2)
				}
				entries, _ := os.ReadDir(sandbox.HomeRoot)
				for _, e := range entries {
					if strings.Contains(e.Name(), ".creating-") || e.Name() == filepath.Base(path) {
						t.Errorf("left in %s: %s", sandbox.HomeRoot, e.Name())
					}
				}
			})
		}
	}
}

// TestVolumesBtrfsConformance runs the sdk's conformance kit on the btrfs
// plugin, with its scratch directory on the sandbox's btrfs /home.
func TestVolumesBtrfsConformance(t *testing.T) {
	sandbox.Require(t)
	bin := buildPlugin(t, "btrfs")
	for _, backend := range volBackends {
		t.Run(backend, func(t *testing.T) {
			scratch, err := os.MkdirTemp(sandbox.HomeRoot, "hcvol-ptest-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(scratch) })
			rep := plugintest.Run(t, bin, plugintest.Options{ScratchDir: scratch, Destructive: true,
				Env: []string{backendE + backend}})
			if res, _ := rep.Result("idempotency/volumes"); res.Status != plugintest.Pass {
				t.Errorf("idempotency/volumes did not pass on btrfs: %+v", res)
			}
			t.Log(rep.String())
		})
	}
}
