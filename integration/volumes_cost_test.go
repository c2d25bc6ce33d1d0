//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// volCostN is how many volumes each round of TestVolumesBtrfsCreateCost
// makes.
const volCostN = 100

// TestVolumesBtrfsCreateCost measures CreateVolume and DeleteVolume with a
// quota, end to end through the plugin's gRPC, for each backend, against a
// bash loop running the same btrfs-progs steps (create, chown, chmod,
// qgroup limit; delete --commit-after, qgroup destroy). Numbers are
// logged; the test fails only when a step fails.
func TestVolumesBtrfsCreateCost(t *testing.T) {
	sandbox.Require(t)
	volOwners(t)
	if testing.Short() {
		t.Skip("measurement; skipped with -short")
	}
	bin := buildPlugin(t, "btrfs")
	mustRun(t, "btrfs", "quota", "enable", sandbox.HomeRoot)
	var report string
	for _, backend := range volBackends {
		v := dispense[volumes.Volumes](t, startPlugin(t, bin, backendE+backend), sdk.ConcernVolumes)
		create, del := volCostPlugin(t, v, backend)
		report += fmt.Sprintf("%-22s create %8v (%6v each)   delete %8v (%6v each)\n", "plugin/"+backend,
			create.Round(time.Millisecond), (create / volCostN).Round(10*time.Microsecond),
			del.Round(time.Millisecond), (del / volCostN).Round(10*time.Microsecond))
	}
	create, del := volCostBash(t)
	report += fmt.Sprintf("%-22s create %8v (%6v each)   delete %8v (%6v each)\n", "bash+btrfs-progs",
		create.Round(time.Millisecond), (create / volCostN).Round(10*time.Microsecond),
		del.Round(time.Millisecond), (del / volCostN).Round(10*time.Microsecond))
	t.Logf("%d volumes with a 1 GiB limit:\n%s", volCostN, report)
}

func volCostParent(t *testing.T, name string) string {
	dir := filepath.Join(sandbox.HomeRoot, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	return dir
}

func volCostPlugin(t *testing.T, v volumes.Volumes, backend string) (create, del time.Duration) {
	ctx := context.Background()
	dir := volCostParent(t, "hcvol-cost-"+backend)
	start := time.Now()
	for i := range volCostN {
		spec := volumes.VolumeSpec{Path: fmt.Sprintf("%s/u%03d", dir, i),
			Owner: volumes.Owner{UID: volUID, GID: volGID, Mode: 0o755}, QuotaBytes: 1 << 30}
		if _, err := v.CreateVolume(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	create = time.Since(start)
	start = time.Now()
	for i := range volCostN {
		if err := v.DeleteVolume(ctx, fmt.Sprintf("%s/u%03d", dir, i)); err != nil {
			t.Fatal(err)
		}
	}
	return create, time.Since(start)
}

// volCostBash is the baseline: the same steps as a shell script would
// take them, one process per step.
func volCostBash(t *testing.T) (create, del time.Duration) {
	dir := volCostParent(t, "hcvol-cost-bash")
	createScript := `set -e; for i in $(seq -w 0 99); do p="$1/u0$i"; id=$((5000 + 10#$i))
btrfs -q subvolume create "$p"; chown "$id:$id" "$p"; chmod 0755 "$p"; btrfs qgroup limit 1G "$p"; done`
	deleteScript := `set -e; for i in $(seq -w 0 99); do p="$1/u0$i"; id=$(btrfs inspect-internal rootid "$p")
btrfs -q subvolume delete --commit-after "$p"; btrfs qgroup destroy "0/$id" "$1" 2>/dev/null || true; done`
	run := func(script string) time.Duration {
		start := time.Now()
		if out, err := exec.Command("bash", "-c", script, "bash", dir).CombinedOutput(); err != nil {
			t.Fatalf("bash baseline: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	return run(createScript), run(deleteScript)
}
