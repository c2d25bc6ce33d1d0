//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
)

// v1Mounts are the machine's cgroup v1 memory and cpu mounts, from
// mountinfo; "" when the controller is not mounted on v1.
func v1Mounts(t *testing.T) (memory, cpu string) {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fs, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fs) < 5 || len(g) < 3 || g[0] != "cgroup" || fs[3] != "/" {
			continue
		}
		for _, o := range strings.Split(g[2], ",") {
			switch {
			case o == "memory" && memory == "":
				memory = fs[4]
			case o == "cpu" && cpu == "":
				cpu = fs[4]
			}
		}
	}
	return memory, cpu
}

// TestLimitsMemoryCgroupV1 is issue 13's proof of the limits concern on
// this machine's cgroup v1: a user created with --memory 64M --cpu 1 gets
// a cgroup under each controller's hero_codescalers parent, chosen
// without a pin (cgroupfs: no systemd runs); a process started from the
// user's real ssh login is in it, allocates 16 MiB, and is killed when it
// touches 256 MiB; user-limits raises the limit and the same allocation
// then succeeds; user-get reports both the limits kept and those the
// plugin reads from the cgroup; the delete removes the cgroups.
func TestLimitsMemoryCgroupV1(t *testing.T) {
	sandbox.Require(t)
	memMnt, cpuMnt := v1Mounts(t)
	if memMnt == "" || cpuMnt == "" {
		t.Skip("the cgroup v1 memory and cpu controllers are not mounted here (the v2 path is unit-tested on a fake hierarchy)")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is needed to allocate memory from the login:", err)
	}
	ensureDriver(t)
	quotasOn(t)
	// The parents are the plugin's; the test removes what it made.
	for _, mnt := range []string{memMnt, cpuMnt} {
		parent := filepath.Join(mnt, "hero_codescalers")
		if _, err := os.Stat(parent); errors.Is(err, os.ErrNotExist) {
			t.Cleanup(func() { rmdirCgroups(t, parent) })
		}
	}
	h := newHost(t, buildTree(t, ""))
	h.start()
	chosenFor(t, h, "limits", "cgroupfs", "generic")
	priv, pub := clientKey(t)
	port, logs := startSSHD(t, sshdOptions{})

	h.mustCLI("user-create", "alice", "--ssh-key-file", pub, "--memory", "64M", "--cpu", "1")
	u := userGet(t, h, "alice")
	memDir := filepath.Join(memMnt, "hero_codescalers", "user-"+strconv.Itoa(u.UID))
	cpuDir := filepath.Join(cpuMnt, "hero_codescalers", "user-"+strconv.Itoa(u.UID))
	t.Cleanup(func() { rmdirCgroups(t, memDir); rmdirCgroups(t, cpuDir) })
	want := core.Limits{MilliCPU: 1000, MemoryBytes: 64 << 20}
	if u.Limits == nil || *u.Limits != want || u.Installed == nil || u.Installed.Limits == nil || *u.Installed.Limits != want {
		t.Fatalf("user-get: limits %+v, installed %+v", u.Limits, u.Installed)
	}
	for file, want := range map[string]string{
		filepath.Join(memDir, "memory.limit_in_bytes"): "67108864",
		filepath.Join(cpuDir, "cpu.cfs_quota_us"):      "100000",
		filepath.Join(cpuDir, "cpu.cfs_period_us"):     "100000",
	} {
		if got := readTrim(t, file); got != want {
			t.Errorf("%s = %s, want %s", file, got, want)
		}
	}

	// login runs a program from alice's ssh login once the login's shell
	// is in her cgroup. Inside the sandbox's pid namespace the kernel
	// sends no process events, so the plugin's sweep (every 2 s) moves the
	// login there; outside it, the uid-change event does at once.
	cg := "hero_codescalers/user-" + strconv.Itoa(u.UID)
	login := func(script string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := "for i in $(seq 200); do grep -q ':memory:/" + cg + "$' /proc/self/cgroup && break; sleep 0.05; done; " +
			"grep ':memory:' /proc/self/cgroup; exec python3 -c '" + script + "'"
		out, err := exec.CommandContext(ctx, "ssh", append(sshArgs(priv, port), "alice@127.0.0.1", cmd)...).CombinedOutput()
		return string(out), err
	}
	alloc := func(mib int) string {
		return "b = b\"\\x01\" * (" + strconv.Itoa(mib) + " << 20); print(\"allocated\", len(b) >> 20)"
	}
	out, err := login(alloc(16))
	if err != nil || !strings.Contains(out, ":memory:/"+cg) || !strings.Contains(out, "allocated 16") {
		t.Fatalf("16 MiB under a 64 MiB limit: %v\n%s\nsshd:\n%s", err, out, logs)
	}
	kills := oomKills(t, memDir)
	out, err = login(alloc(256))
	if err == nil || strings.Contains(out, "allocated") {
		t.Fatalf("256 MiB under a 64 MiB limit was allocated: %v\n%s", err, out)
	}
	// ssh exits 255 when the remote command dies of a signal.
	t.Logf("256 MiB from the login under 64 MiB: %v (%s)", err, strings.TrimSpace(out))
	if got := oomKills(t, memDir); got != kills+1 {
		t.Errorf("the cgroup's OOM kills went %d -> %d, want one: the limit did not end the allocation", kills, got)
	}
	if peak, _ := strconv.ParseInt(readTrim(t, filepath.Join(memDir, "memory.max_usage_in_bytes")), 10, 64); peak > 64<<20 {
		t.Errorf("the cgroup peaked at %d bytes, over its limit", peak)
	}

	h.mustCLI("user-limits", "alice", "--memory", "512M")
	if got := readTrim(t, filepath.Join(memDir, "memory.limit_in_bytes")); got != strconv.Itoa(512<<20) {
		t.Errorf("after user-limits: memory.limit_in_bytes %s", got)
	}
	if u := userGet(t, h, "alice"); u.Limits == nil || *u.Limits != (core.Limits{MilliCPU: 1000, MemoryBytes: 512 << 20}) {
		t.Errorf("after user-limits --memory alone: %+v", u.Limits)
	}
	if out, err := login(alloc(256)); err != nil || !strings.Contains(out, "allocated 256") {
		t.Errorf("256 MiB under a 512 MiB limit: %v\n%s", err, out)
	}

	h.mustCLI("user-delete", "alice")
	for _, dir := range []string{memDir, cpuDir} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the delete: %v", dir, err)
		}
	}
}

// TestCgroupfsPlugin: the cgroupfs plugin passes the kit, destructive
// checks included — it sets, reads back and forgets the limits of the
// kit's managed account in the machine's real cgroups, and leaves none.
func TestCgroupfsPlugin(t *testing.T) {
	sandbox.Require(t)
	memMnt, cpuMnt := v1Mounts(t)
	for _, mnt := range []string{memMnt, cpuMnt} {
		if mnt == "" {
			continue
		}
		parent := filepath.Join(mnt, "hero_codescalers")
		if _, err := os.Stat(parent); errors.Is(err, os.ErrNotExist) {
			t.Cleanup(func() { rmdirCgroups(t, parent) })
		}
	}
	rep := plugintest.Run(t, buildPlugin(t, "cgroupfs"), plugintest.Options{ScratchDir: t.TempDir(), Destructive: true})
	for _, check := range []string{"invalid-input/limits", "idempotency/limits", "lifecycle/limits"} {
		if r, ok := rep.Result(check); !ok || r.Status != plugintest.Pass {
			t.Errorf("%s: %+v", check, r)
		}
	}
	if memMnt != "" {
		ents, _ := os.ReadDir(filepath.Join(memMnt, "hero_codescalers"))
		for _, e := range ents {
			if e.IsDir() {
				t.Errorf("the kit's checks left the cgroup %s", e.Name())
			}
		}
	}
}

func userGet(t *testing.T, h *hostUnderTest, name string) core.User {
	t.Helper()
	var u core.User
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-get", name)), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// oomKills is the oom_kill count of a v1 memory cgroup's memory.oom_control.
func oomKills(t *testing.T, dir string) int {
	t.Helper()
	for _, line := range strings.Split(readTrim(t, filepath.Join(dir, "memory.oom_control")), "\n") {
		if n, ok := strings.CutPrefix(line, "oom_kill "); ok {
			k, _ := strconv.Atoi(n)
			return k
		}
	}
	t.Fatalf("%s/memory.oom_control has no oom_kill count", dir)
	return 0
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// rmdirCgroups removes a cgroup the test made, with any child cgroup
// left in it; processes still in one are moved to the hierarchy's root
// first. A cgroup that is gone is fine.
func rmdirCgroups(t *testing.T, dir string) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			rmdirCgroups(t, filepath.Join(dir, e.Name()))
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
		root := filepath.Dir(filepath.Dir(dir))
		if filepath.Base(dir) == "hero_codescalers" {
			root = filepath.Dir(dir)
		}
		for _, pid := range strings.Fields(string(b)) {
			_ = os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(pid), 0)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup: %v", err)
	}
}
