package cgroupfs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"golang.org/x/sys/unix"
)

// This machine's mountinfo: the v1 controllers and a nearly empty v2
// hierarchy beside them.
const hybrid = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestLayoutFromMountinfo(t *testing.T) {
	for name, c := range map[string]struct {
		mountinfo string
		want      Layout
	}{
		"hybrid":                            {hybrid, Layout{Memory: "/sys/fs/cgroup/memory", CPU: "/sys/fs/cgroup/cpu"}},
		"unified":                           {"25 1 0:22 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", Layout{V2: "/sys/fs/cgroup"}},
		"legacy cpu,cpuacct":                {"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", Layout{Memory: "/sys/fs/cgroup/memory", CPU: "/sys/fs/cgroup/cpu,cpuacct"}},
		"a bind of a sub-cgroup is skipped": {"34 30 0:31 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n25 1 0:22 / /mnt/c\\040g rw - cgroup2 cgroup2 rw\n", Layout{V2: "/mnt/c g"}},
		"none":                              {"22 1 0:21 / / rw - ext4 /dev/vda rw\n", Layout{}},
	} {
		got, err := parseMountinfo(strings.NewReader(c.mountinfo))
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", name, got, err, c.want)
		}
	}
}

// fakeMachine is a scratch etc (alice and bob managed, debian a person's
// own account), a fake /proc and a mountinfo naming the fake hierarchy.
type fakeMachine struct {
	root, proc string
	c          *Cgroupfs
}

var (
	alice  = lifecycle.User{Name: "alice", UID: 1001, GID: 1001}
	bob    = lifecycle.User{Name: "bob", UID: 1002, GID: 1002}
	debian = lifecycle.User{Name: "debian", UID: 1000, GID: 1000}
)

func newFake(t *testing.T, mountinfo func(root string) string, files map[string]string) *fakeMachine {
	t.Helper()
	dir := t.TempDir()
	etc, root, proc := filepath.Join(dir, "etc"), filepath.Join(dir, "cgroup"), filepath.Join(dir, "proc")
	write(t, filepath.Join(etc, "passwd"), "root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\n"+
		"alice:x:1001:1001::/home/alice:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n")
	write(t, filepath.Join(etc, "group"), "root:x:0:\ncodescalers:x:998:alice,bob\n")
	for path, text := range files {
		write(t, filepath.Join(root, path), text)
	}
	// Processes: 4242 is alice's, outside her cgroup; 4343 is debian's.
	write(t, filepath.Join(proc, "4242/status"), "Name:\tsh\nUid:\t1001\t1001\t1001\t1001\n")
	write(t, filepath.Join(proc, "4242/cgroup"), "4:memory:/\n1:cpu:/\n0::/\n")
	write(t, filepath.Join(proc, "4343/status"), "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\n")
	write(t, filepath.Join(proc, "4343/cgroup"), "4:memory:/\n1:cpu:/\n0::/\n")
	write(t, filepath.Join(dir, "mountinfo"), mountinfo(root))
	c := New(Options{Mountinfo: filepath.Join(dir, "mountinfo"), Proc: proc, Systemd: filepath.Join(dir, "no-systemd")},
		policy.NewWatch(policy.Defaults(etc), etc), nil)
	// A process dir is owned by its process's uid, as in /proc; without
	// root the sweep reads the uid from the status file instead.
	for pid, uid := range map[string]int{"4242": 1001, "4343": 1000} {
		if os.Chown(filepath.Join(proc, pid), uid, uid) != nil {
			c.ownerOf = func(pid int) (uint32, bool) { return procUID(proc, pid) }
		}
	}
	return &fakeMachine{root: root, proc: proc, c: c}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeMachine) read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, path))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// forgetFiles removes the control files of a cgroup, as the kernel drops
// them with the directory, so the fake's rmdir can succeed.
func (f *fakeMachine) forgetFiles(t *testing.T, dir string) {
	ents, _ := os.ReadDir(filepath.Join(f.root, dir))
	for _, e := range ents {
		os.Remove(filepath.Join(f.root, dir, e.Name()))
	}
}

// TestV2 drives the plugin on a unified hierarchy laid out as
// /sys/fs/cgroup is: the controllers enabled for the children, cpu.max
// and memory.max (and swap off) written, the user's running process moved,
// the values read back, lifted, and the cgroup removed at Forget.
func TestV2(t *testing.T) {
	ctx := context.Background()
	user := "hero_codescalers/user-1001/"
	f := newFake(t, func(root string) string { return "25 1 0:22 / " + root + " rw - cgroup2 cgroup2 rw\n" }, map[string]string{
		"cgroup.subtree_control": "cpuset\n", "cgroup.procs": "1\n",
		"hero_codescalers/cgroup.subtree_control": "",
		user + "memory.max":                       "max\n", user + "memory.swap.max": "max\n", user + "cpu.max": "max 100000\n", user + "cgroup.procs": "",
	})
	if f.c.Layout().Version() != 2 {
		t.Fatalf("layout %+v", f.c.Layout())
	}
	if got, err := newFake(t, func(root string) string { return "25 1 0:22 / " + root + " rw - cgroup2 cgroup2 rw\n" }, nil).c.Forget(ctx, alice); err != nil || len(got.Removed) != 0 {
		t.Errorf("Forget on a machine where the plugin never made its parent: %+v, %v", got, err)
	}
	moved, err := f.c.Set(ctx, alice, limits.Values{MilliCPU: 1500, Memory: 64 << 20})
	if err != nil || moved != 1 {
		t.Fatalf("Set: moved %d, %v", moved, err)
	}
	for path, want := range map[string]string{
		"cgroup.subtree_control": "+memory +cpu", "hero_codescalers/cgroup.subtree_control": "+memory +cpu",
		user + "memory.max": "67108864", user + "memory.swap.max": "0", user + "cpu.max": "150000 100000",
		user + "cgroup.procs": "4242",
	} {
		if got := f.read(t, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if v, err := f.c.Get(ctx, alice); err != nil || v != (limits.Values{MilliCPU: 1500, Memory: 64 << 20}) {
		t.Errorf("Get = %s, %v", v, err)
	}
	if v, err := f.c.Get(ctx, bob); err != nil || !v.IsZero() {
		t.Errorf("Get of a user without a cgroup = %s, %v", v, err)
	}
	if _, err := f.c.Set(ctx, alice, limits.Values{Memory: 128 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := f.read(t, user+"cpu.max"); got != "max 100000" {
		t.Errorf("cpu lifted: %q", got)
	}
	refusals(t, f.c)
	f.forgetFiles(t, user)
	got, err := f.c.Forget(ctx, alice)
	if err != nil || len(got.Removed) != 1 || got.Removed[0] != filepath.Join(f.root, user[:len(user)-1]) {
		t.Fatalf("Forget = %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(f.root, user)); !os.IsNotExist(err) {
		t.Errorf("the cgroup is still there: %v", err)
	}
	if got, err := f.c.Forget(ctx, alice); err != nil || len(got.Removed) != 0 {
		t.Errorf("a second Forget = %+v, %v", got, err)
	}
}

// TestV1 drives the plugin on a hybrid machine's v1 controllers, as this
// one has them: memory (and memory+swap) and the CFS quota, each under
// the controller's own hero_codescalers parent.
func TestV1(t *testing.T) {
	ctx := context.Background()
	mem, cpu := "memory/hero_codescalers/user-1001/", "cpu/hero_codescalers/user-1001/"
	f := newFake(t, func(root string) string {
		return strings.ReplaceAll(hybrid, "/sys/fs/cgroup", root)
	}, map[string]string{
		mem + "memory.limit_in_bytes": "9223372036854771712\n", mem + "memory.memsw.limit_in_bytes": "9223372036854771712\n", mem + "cgroup.procs": "",
		cpu + "cpu.cfs_quota_us": "-1\n", cpu + "cpu.cfs_period_us": "100000\n", cpu + "cgroup.procs": "",
	})
	if v, err := f.c.Get(ctx, alice); err != nil || !v.IsZero() {
		t.Fatalf("Get before Set = %s, %v", v, err)
	}
	if _, err := f.c.Set(ctx, alice, limits.Values{MilliCPU: 2000, Memory: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		mem + "memory.limit_in_bytes": "67108864", mem + "memory.memsw.limit_in_bytes": "67108864",
		cpu + "cpu.cfs_quota_us": "200000", cpu + "cpu.cfs_period_us": "100000",
		mem + "cgroup.procs": "4242", cpu + "cgroup.procs": "4242",
	} {
		if got := f.read(t, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if v, err := f.c.Get(ctx, alice); err != nil || v != (limits.Values{MilliCPU: 2000, Memory: 64 << 20}) {
		t.Errorf("Get = %s, %v", v, err)
	}
	// The process is in the cgroup now: a sweep moves nothing.
	write(t, filepath.Join(f.proc, "4242/cgroup"), "4:memory:/hero_codescalers/user-1001\n1:cpu:/hero_codescalers/user-1001\n0::/\n")
	if n := f.c.sweep(nil); n != 0 {
		t.Errorf("a sweep moved %d processes already in place", n)
	}
	refusals(t, f.c)
	f.forgetFiles(t, mem)
	f.forgetFiles(t, cpu)
	got, err := f.c.Forget(ctx, alice)
	if err != nil || len(got.Removed) != 2 {
		t.Fatalf("Forget = %+v, %v", got, err)
	}
}

// refusals: root, a person's own account and a uid that is not the
// account's are refused, whatever the caller says.
func refusals(t *testing.T, p *Cgroupfs) {
	t.Helper()
	ctx := context.Background()
	v := limits.Values{Memory: 64 << 20}
	for what, c := range map[string]struct {
		u    lifecycle.User
		code sdkerr.Code
	}{
		"root":         {lifecycle.User{Name: "root"}, sdkerr.InvalidArgument},
		"root by name": {lifecycle.User{Name: "root", UID: 1001}, sdkerr.PermissionDenied},
		"unmanaged":    {debian, sdkerr.PermissionDenied},
		"another uid":  {lifecycle.User{Name: "alice", UID: 1002}, sdkerr.PermissionDenied},
		"no such user": {lifecycle.User{Name: "zed", UID: 1005}, sdkerr.NotFound},
	} {
		if _, err := p.Set(ctx, c.u, v); !sdkerr.Is(err, c.code) {
			t.Errorf("Set for %s: %v, want %s", what, err, c.code)
		}
	}
	if _, err := p.Forget(ctx, debian); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("Forget of a person's account: %v", err)
	}
}

// TestProbe: not ready where systemd runs.
func TestProbe(t *testing.T) {
	f := newFake(t, func(root string) string { return "25 1 0:22 / " + root + " rw - cgroup2 cgroup2 rw\n" }, nil)
	f.c.opts.Systemd = t.TempDir()
	if r := f.c.Probe(context.Background()); r.Ready || !strings.Contains(r.Reason, "systemd") {
		t.Errorf("probe with systemd: %+v", r)
	}
}

// TestParseEvents reads a fork, an exec and a uid change as the kernel
// sends them, and skips a thread's fork.
func TestParseEvents(t *testing.T) {
	msg := func(what uint32, data ...uint32) []byte {
		b := make([]byte, nlmsgHdrLen+cnMsgLen+16+4*len(data))
		ne := nativeEndian
		ne.PutUint32(b[0:], uint32(len(b)))
		ne.PutUint32(b[16:], cnIdxProc)
		ne.PutUint32(b[nlmsgHdrLen+cnMsgLen:], what)
		for i, d := range data {
			ne.PutUint32(b[nlmsgHdrLen+cnMsgLen+16+4*i:], d)
		}
		return b
	}
	var all []byte
	all = append(all, msg(procEventFork, 10, 10, 11, 11)...)
	all = append(all, msg(procEventFork, 10, 10, 12, 11)...) // a thread
	all = append(all, msg(procEventExec, 11, 11)...)
	all = append(all, msg(procEventUID, 11, 11, 1001, 1001)...)
	got := parseEvents(all)
	want := []event{{pid: 11}, {pid: 11}, {pid: 11, uid: 1001, hasUID: true}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestProcessEvents subscribes to the kernel's process events, as the
// plugin does in the machine's pid namespace, and sees a child it starts
// fork and exec. It needs root and the initial pid namespace.
func TestProcessEvents(t *testing.T) {
	if os.Geteuid() != 0 || !initPIDNamespace() {
		t.Skip("process events need root in the machine's pid namespace")
	}
	tr, err := listen()
	if err != nil {
		t.Skip("no proc connector:", err)
	}
	defer unix.Close(tr.fd)
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	_ = unix.SetsockoptTimeval(tr.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	buf := make([]byte, 64<<10)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		n, _, err := unix.Recvfrom(tr.fd, buf, 0)
		if err != nil {
			continue
		}
		for _, ev := range parseEvents(buf[:n]) {
			if ev.pid == cmd.Process.Pid {
				return
			}
		}
	}
	t.Fatalf("no event of pid %d within 10s", cmd.Process.Pid)
}

// BenchmarkSweep is one backstop sweep of this machine's /proc with one
// limited uid — what the plugin spends every SweepEvery while anyone has
// limits (nothing when nobody has) — finding each process's uid by a stat
// of /proc/PID (the plugin's way) against reading /proc/PID/status.
func BenchmarkSweep(b *testing.B) {
	for _, way := range []string{"stat", "status"} {
		b.Run(way, func(b *testing.B) {
			t := &testing.T{}
			f := newFake(t, func(root string) string { return "25 1 0:22 / " + root + " rw - cgroup2 cgroup2 rw\n" }, nil)
			f.c.opts.Proc, f.c.ownerOf = "/proc", nil
			if way == "status" {
				f.c.ownerOf = func(pid int) (uint32, bool) { return procUID("/proc", pid) }
			}
			f.c.limited[alice.UID] = true
			ents, _ := os.ReadDir("/proc")
			for range b.N {
				f.c.sweep(nil)
			}
			b.ReportMetric(float64(len(ents)), "proc-entries")
		})
	}
}
