//go:build integration

package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

const modulePath = "github.com/threefoldtech/hero_codescalers"

// volBuild builds a plugin package into a fresh temporary directory and
// writes its manifest beside it, as `make build` does.
func volBuild(t *testing.T, pkg string, tags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(gobin, append(args, modulePath+"/"+pkg)...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	manifest, err := exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("%s describe: %v", bin, err)
	}
	if err := os.WriteFile(sdk.ManifestPath(bin), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

// volStart runs a volumes plugin the way the host does (go-plugin, gRPC,
// sdk.Handshake) and returns its client; the plugin is killed at cleanup.
// Its stderr (the JSON log) goes to the returned buffer.
func volStart(t *testing.T, bin string, env ...string) (volumes.Volumes, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		Stderr:           &stderr,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	raw, err := rpc.Dispense(sdk.ConcernVolumes)
	if err != nil {
		t.Fatalf("dispense volumes: %v", err)
	}
	return raw.(volumes.Volumes), &stderr
}

// btrfsRun runs the real btrfs tool and fails the test when it fails.
func btrfsRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("btrfs", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// btrfsSubvols is `btrfs subvolume list` of the filesystem at mnt: path
// from the top level → subvolume id.
func btrfsSubvols(t *testing.T, mnt string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, line := range strings.Split(btrfsRun(t, "subvolume", "list", mnt), "\n") {
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

// btrfsQgroups is `btrfs qgroup show -re --raw` of mnt: "0/id" → line;
// empty when quotas are off.
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
		if len(f) < 5 || !strings.HasPrefix(f[0], "0/") {
			continue
		}
		rfer, _ := strconv.ParseUint(f[1], 10, 64)
		out[f[0]] = btrfsQgroup{Referenced: rfer, MaxRef: f[3]}
	}
	return out
}

// qgroupOf names the level-0 qgroup of subvolume id.
func qgroupOf(id uint64) string { return "0/" + strconv.FormatUint(id, 10) }
