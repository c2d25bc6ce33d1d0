//go:build integration

package integration

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// btrfsSubvols is `btrfs subvolume list` of the filesystem at mnt: path
// from the top level → subvolume id.
func btrfsSubvols(t *testing.T, mnt string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, line := range strings.Split(mustRun(t, "btrfs", "subvolume", "list", mnt), "\n") {
		head, path, ok := strings.Cut(line, " path ")
		f := strings.Fields(head)
		if !ok || len(f) < 2 {
			continue
		}
		id, _ := strconv.ParseUint(f[1], 10, 64)
		out[path] = id
	}
	return out
}

// btrfsQgroup is one line of `btrfs qgroup show -re --raw`.
type btrfsQgroup struct {
	Referenced uint64
	MaxRef     string // "none" or bytes
}

// btrfsQgroups is `btrfs qgroup show -re --raw` of mnt: "level/id" →
// line; empty when quotas are off.
func btrfsQgroups(t *testing.T, mnt string) map[string]btrfsQgroup {
	t.Helper()
	out := map[string]btrfsQgroup{}
	raw, err := exec.Command("btrfs", "qgroup", "show", "-re", "--raw", mnt).CombinedOutput()
	if err != nil {
		if strings.Contains(string(raw), "not enabled") {
			return out
		}
		t.Fatalf("btrfs qgroup show: %v\n%s", err, raw)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.Contains(f[0], "/") || strings.HasPrefix(f[0], "-") {
			continue
		}
		rfer, _ := strconv.ParseUint(f[1], 10, 64)
		out[f[0]] = btrfsQgroup{Referenced: rfer, MaxRef: f[3]}
	}
	return out
}

// qgroupOf names the level-0 qgroup of subvolume id.
func qgroupOf(id uint64) string { return "0/" + strconv.FormatUint(id, 10) }

// groupOf names the level-1 qgroup that carries the limit of the volume
// whose subvolume id is id.
func groupOf(id uint64) string { return "1/" + strconv.FormatUint(id, 10) }
