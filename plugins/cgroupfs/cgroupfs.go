package cgroupfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/keylock"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"golang.org/x/sys/unix"
)

// Period is the CFS period every CPU limit is a share of: 100 ms, the
// kernel's default, so a quota of 150 ms in it is 1.5 cores.
const Period = 100000

// unlimitedV1 is where a v1 memory limit reads as none: the kernel's
// PAGE_COUNTER_MAX in bytes, rounded to pages (9223372036854771712 on
// 4 KiB pages); anything this large is no limit.
const unlimitedV1 = 1 << 62

// Options place the plugin's view of the machine; tests point them at a
// fake hierarchy.
type Options struct {
	Mountinfo string // "/proc/self/mountinfo"
	Proc      string // "/proc"
	// Systemd is where a running systemd says so ("/run/systemd/system"):
	// there the systemd plugin owns the users' slices, and this one's
	// Probe says not ready.
	Systemd string
}

// Cgroupfs is the limits plugin that writes the cgroup filesystem itself.
type Cgroupfs struct {
	opts   Options
	layout Layout
	lerr   error // reading the layout failed
	watch  *policy.Watch
	perr   error // the policy could not be loaded
	locks  keylock.Map

	mu      sync.Mutex
	limited map[uint32]bool // uids with a cgroup of ours: whose processes go there
	tracker *tracker
	// ownerOf replaces the stat of /proc/PID in a sweep (tests without
	// root, whose fake /proc cannot give a process dir its uid).
	ownerOf func(pid int) (uint32, bool)
}

var _ limits.Limits = (*Cgroupfs)(nil)

// New reads the layout and judges users by w (nil with perr: every call
// is refused with perr).
func New(opts Options, w *policy.Watch, perr error) *Cgroupfs {
	c := &Cgroupfs{opts: opts, watch: w, perr: perr, limited: map[uint32]bool{}}
	c.layout, c.lerr = ReadLayout(opts.Mountinfo)
	if c.lerr == nil && c.layout.Version() == 0 {
		c.lerr = errors.New("no cgroup v1 memory controller and no cgroup2 hierarchy is mounted (" + opts.Mountinfo + ")")
	}
	return c
}

// Layout is where the plugin found the controllers.
func (c *Cgroupfs) Layout() Layout { return c.layout }

// Probe is ready where a cgroup hierarchy with a memory controller is
// mounted, the plugin is root, and systemd does not run (there it owns
// the cgroup tree, and the systemd plugin sets the limits).
func (c *Cgroupfs) Probe(context.Context) identity.ProbeResult {
	switch {
	case c.perr != nil:
		return identity.ProbeResult{Reason: "policy: " + c.perr.Error()}
	case c.lerr != nil:
		return identity.ProbeResult{Reason: c.lerr.Error()}
	case os.Geteuid() != 0:
		return identity.ProbeResult{Reason: "not root: cgroups cannot be made or written"}
	}
	if _, err := os.Stat(c.opts.Systemd); err == nil {
		return identity.ProbeResult{Reason: "systemd runs here (" + c.opts.Systemd + ") and owns the cgroup tree: the systemd plugin sets limits"}
	}
	return identity.ProbeResult{Ready: true}
}

// uidOf admits a call on u: a managed account of the policy whose uid is
// u.UID and is its alone. Root, system accounts and people's own accounts
// never get a cgroup of ours.
func (c *Cgroupfs) uidOf(u lifecycle.User) (*policy.Machine, error) {
	m, err := c.machine()
	if err != nil {
		return nil, err
	}
	uid, ok := m.UserID(u.Name)
	switch {
	case !ok:
		return nil, sdkerr.Errorf(sdkerr.NotFound, "no account %q", u.Name)
	case !m.UserManaged(u.Name):
		return nil, sdkerr.Errorf(sdkerr.PermissionDenied, "%q is not a managed account (a member of %s with a uid in %d..%d); its limits are not this plugin's to set",
			u.Name, m.Policy().MarkerGroup, m.Policy().UIDMin, m.Policy().UIDMax)
	case uid != u.UID:
		return nil, sdkerr.Errorf(sdkerr.PermissionDenied, "account %q has uid %d, not %d; refused", u.Name, uid, u.UID)
	case !m.UIDManaged(uid):
		return nil, sdkerr.Errorf(sdkerr.PermissionDenied, "uid %d of %q is shared with an unmanaged account; refused", uid, u.Name)
	}
	return m, nil
}

func (c *Cgroupfs) machine() (*policy.Machine, error) {
	if c.perr != nil {
		return nil, sdkerr.Wrap(c.perr, sdkerr.FailedPrecondition, "the cgroupfs plugin refuses every call: %v", c.perr)
	}
	if c.lerr != nil {
		return nil, sdkerr.Wrap(c.lerr, sdkerr.FailedPrecondition, "%v", c.lerr)
	}
	m, err := c.watch.Machine()
	if err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Unavailable, "cannot read the account files: %v", err)
	}
	return m, nil
}

// cgroupName is a user's cgroup beneath the parent: made of the uid alone,
// so no name a caller sends reaches a path.
func cgroupName(uid uint32) string { return "user-" + strconv.FormatUint(uint64(uid), 10) }

// dirs are u's cgroups, one per hierarchy used.
func (c *Cgroupfs) dirs(uid uint32) []string {
	var out []string
	for _, p := range c.layout.Parents() {
		out = append(out, filepath.Join(p, cgroupName(uid)))
	}
	return out
}

func (c *Cgroupfs) Set(_ context.Context, u lifecycle.User, v limits.Values) (int, error) {
	if err := limits.ValidateUser(u); err != nil {
		return 0, err
	}
	if err := limits.ValidateValues(v); err != nil {
		return 0, err
	}
	if _, err := c.uidOf(u); err != nil {
		return 0, err
	}
	if v.MilliCPU != 0 && c.layout.Version() == 1 && c.layout.CPU == "" {
		return 0, sdkerr.Errorf(sdkerr.FailedPrecondition, "no cgroup v1 cpu controller is mounted: a CPU limit cannot be set")
	}
	unlock := c.locks.Lock(strconv.FormatUint(uint64(u.UID), 10))
	defer unlock()
	if err := c.makeCgroups(u.UID); err != nil {
		return 0, err
	}
	var err error
	if c.layout.Version() == 2 {
		err = c.writeV2(u.UID, v)
	} else {
		err = c.writeV1(u.UID, v)
	}
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.limited[u.UID] = true
	c.mu.Unlock()
	return c.sweep([]uint32{u.UID}), nil
}

// makeCgroups makes the parent (once) and u's cgroup in each hierarchy;
// on v2 it enables the memory and cpu controllers for the children of the
// root (when init has not) and of the parent.
func (c *Cgroupfs) makeCgroups(uid uint32) error {
	if c.layout.Version() == 2 {
		root := c.layout.V2
		if err := enableControllers(root, root); err != nil {
			return err
		}
		if err := mkdirBeneath(root, Parent); err != nil {
			return err
		}
		if err := enableControllers(root, filepath.Join(root, Parent)); err != nil {
			return err
		}
	} else {
		for _, mnt := range []string{c.layout.Memory, c.layout.CPU} {
			if mnt == "" {
				continue
			}
			if err := mkdirBeneath(mnt, Parent); err != nil {
				return err
			}
		}
	}
	for _, p := range c.layout.Parents() {
		if err := mkdirBeneath(p, cgroupName(uid)); err != nil {
			return err
		}
	}
	return nil
}

// enableControllers writes "+memory +cpu" to dir's cgroup.subtree_control
// unless both are on already.
func enableControllers(root, dir string) error {
	b, _, err := fsutil.ReadFileBeneath(root, filepath.Join(dir, "cgroup.subtree_control"), 4096)
	if err != nil {
		return cgErr(err, "read %s/cgroup.subtree_control", dir)
	}
	on := strings.Fields(string(b))
	var want []string
	for _, ctl := range []string{"memory", "cpu"} {
		if !contains(on, ctl) {
			want = append(want, "+"+ctl)
		}
	}
	if len(want) == 0 {
		return nil
	}
	return writeBeneath(root, filepath.Join(dir, "cgroup.subtree_control"), strings.Join(want, " "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *Cgroupfs) writeV2(uid uint32, v limits.Values) error {
	p := filepath.Join(c.layout.V2, Parent)
	dir := filepath.Join(p, cgroupName(uid))
	mem, swap, cpu := "max", "max", "max "+strconv.Itoa(Period)
	if v.Memory > 0 {
		mem, swap = strconv.FormatUint(v.Memory, 10), "0"
	}
	if v.MilliCPU > 0 {
		cpu = strconv.FormatUint(uint64(v.MilliCPU)*Period/1000, 10) + " " + strconv.Itoa(Period)
	}
	if err := writeBeneath(p, filepath.Join(dir, "memory.max"), mem); err != nil {
		return err
	}
	// Without it a limited user's memory spills into swap; a kernel
	// without swap accounting has no such file.
	if err := writeBeneath(p, filepath.Join(dir, "memory.swap.max"), swap); err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return err
	}
	return writeBeneath(p, filepath.Join(dir, "cpu.max"), cpu)
}

func (c *Cgroupfs) writeV1(uid uint32, v limits.Values) error {
	p := filepath.Join(c.layout.Memory, Parent)
	dir := filepath.Join(p, cgroupName(uid))
	mem := "-1"
	if v.Memory > 0 {
		mem = strconv.FormatUint(v.Memory, 10)
	}
	// memory.memsw (memory and swap) must never be below memory's limit:
	// lift it, set memory, then bring it down to the same limit, so swap
	// adds nothing.
	memsw := filepath.Join(dir, "memory.memsw.limit_in_bytes")
	hasSwap := true
	if err := writeBeneath(p, memsw, "-1"); sdkerr.Is(err, sdkerr.NotFound) {
		hasSwap = false
	} else if err != nil {
		return err
	}
	if err := writeBeneath(p, filepath.Join(dir, "memory.limit_in_bytes"), mem); err != nil {
		return err
	}
	if hasSwap && mem != "-1" {
		if err := writeBeneath(p, memsw, mem); err != nil {
			return err
		}
	}
	if c.layout.CPU == "" {
		return nil
	}
	cp := filepath.Join(c.layout.CPU, Parent)
	cdir := filepath.Join(cp, cgroupName(uid))
	quota := "-1"
	if v.MilliCPU > 0 {
		quota = strconv.FormatUint(uint64(v.MilliCPU)*Period/1000, 10)
	}
	if err := writeBeneath(cp, filepath.Join(cdir, "cpu.cfs_period_us"), strconv.Itoa(Period)); err != nil {
		return err
	}
	return writeBeneath(cp, filepath.Join(cdir, "cpu.cfs_quota_us"), quota)
}

func (c *Cgroupfs) Get(_ context.Context, u lifecycle.User) (limits.Values, error) {
	if err := limits.ValidateUser(u); err != nil {
		return limits.Values{}, err
	}
	if _, err := c.uidOf(u); err != nil {
		return limits.Values{}, err
	}
	var v limits.Values
	var err error
	if c.layout.Version() == 2 {
		v, err = c.readV2(u.UID)
	} else {
		v, err = c.readV1(u.UID)
	}
	if sdkerr.Is(err, sdkerr.NotFound) {
		return limits.Values{}, nil // no cgroup: no limits
	}
	return v, err
}

func (c *Cgroupfs) readV2(uid uint32) (limits.Values, error) {
	p := filepath.Join(c.layout.V2, Parent)
	dir := filepath.Join(p, cgroupName(uid))
	var v limits.Values
	mem, err := readBeneath(p, filepath.Join(dir, "memory.max"))
	if err != nil {
		return v, err
	}
	if mem != "max" {
		if v.Memory, err = strconv.ParseUint(mem, 10, 64); err != nil {
			return v, sdkerr.Errorf(sdkerr.Internal, "%s/memory.max reads %q", dir, mem)
		}
	}
	cpu, err := readBeneath(p, filepath.Join(dir, "cpu.max"))
	if err != nil {
		return v, err
	}
	quota, period, _ := strings.Cut(cpu, " ")
	if quota != "max" {
		q, err1 := strconv.ParseUint(quota, 10, 64)
		per, err2 := strconv.ParseUint(period, 10, 64)
		if err1 != nil || err2 != nil || per == 0 {
			return v, sdkerr.Errorf(sdkerr.Internal, "%s/cpu.max reads %q", dir, cpu)
		}
		v.MilliCPU = uint32(q * 1000 / per)
	}
	return v, nil
}

func (c *Cgroupfs) readV1(uid uint32) (limits.Values, error) {
	p := filepath.Join(c.layout.Memory, Parent)
	var v limits.Values
	mem, err := readBeneath(p, filepath.Join(p, cgroupName(uid), "memory.limit_in_bytes"))
	if err != nil {
		return v, err
	}
	n, err := strconv.ParseUint(mem, 10, 64)
	if err != nil {
		return v, sdkerr.Errorf(sdkerr.Internal, "memory.limit_in_bytes of uid %d reads %q", uid, mem)
	}
	if n < unlimitedV1 {
		v.Memory = n
	}
	if c.layout.CPU == "" {
		return v, nil
	}
	cp := filepath.Join(c.layout.CPU, Parent)
	quota, err := readBeneath(cp, filepath.Join(cp, cgroupName(uid), "cpu.cfs_quota_us"))
	if err != nil {
		return v, err
	}
	period, err := readBeneath(cp, filepath.Join(cp, cgroupName(uid), "cpu.cfs_period_us"))
	if err != nil {
		return v, err
	}
	q, err1 := strconv.ParseInt(quota, 10, 64)
	per, err2 := strconv.ParseUint(period, 10, 64)
	if err1 != nil || err2 != nil || per == 0 {
		return v, sdkerr.Errorf(sdkerr.Internal, "cpu quota of uid %d reads %q/%q", uid, quota, period)
	}
	if q > 0 {
		v.MilliCPU = uint32(uint64(q) * 1000 / per)
	}
	return v, nil
}

// Forget removes u's cgroups. Processes still in one (the host ends the
// user's processes first, so only a straggler) go back to the root of
// its hierarchy, where they would be without us. After a crash the
// account may be gone: a cgroup of a uid no unmanaged account has is
// then stale and removed.
func (c *Cgroupfs) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	if u.UID == 0 {
		return lifecycle.Forgotten{}, nil // root never has a cgroup of ours
	}
	if err := c.forgettable(u); err != nil {
		return lifecycle.Forgotten{}, err
	}
	unlock := c.locks.Lock(strconv.FormatUint(uint64(u.UID), 10))
	defer unlock()
	c.mu.Lock()
	delete(c.limited, u.UID)
	c.mu.Unlock()
	var f lifecycle.Forgotten
	for _, mnt := range []string{c.layout.Memory, c.layout.CPU, c.layout.V2} {
		if mnt == "" {
			continue
		}
		p := filepath.Join(mnt, Parent)
		dir := filepath.Join(p, cgroupName(u.UID))
		removed, err := removeCgroup(mnt, p, dir)
		if err != nil {
			return f, err
		}
		if removed {
			f.Removed = append(f.Removed, dir)
		}
	}
	return f, nil
}

// forgettable admits a Forget of u: a managed account whose uid is u.UID,
// or a name no account has any more whose uid no unmanaged account holds.
func (c *Cgroupfs) forgettable(u lifecycle.User) error {
	m, err := c.machine()
	if err != nil {
		return err
	}
	if _, ok := m.UserID(u.Name); ok {
		_, err := c.uidOf(u)
		return err
	}
	if !m.Policy().UIDAllowed(u.UID) || (m.UIDInUse(u.UID) && !m.UIDManaged(u.UID)) {
		return sdkerr.Errorf(sdkerr.PermissionDenied, "uid %d is outside the policy's range or an unmanaged account's; its cgroup is not this plugin's to remove", u.UID)
	}
	return nil
}

// removeCgroup moves what is left in dir to the hierarchy's root and
// removes dir; false when there was no dir.
func removeCgroup(mnt, parent, dir string) (bool, error) {
	procs, err := readBeneath(parent, filepath.Join(dir, "cgroup.procs"))
	if err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return false, err
	}
	for _, pid := range strings.Fields(procs) {
		err := writeBeneath(mnt, filepath.Join(mnt, "cgroup.procs"), pid)
		if err != nil && !errors.Is(err, unix.ESRCH) && !sdkerr.Is(err, sdkerr.NotFound) {
			return false, err
		}
	}
	pfd, err := fsutil.OpenDirBeneath(mnt, parent)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return false, nil // no parent: the plugin never limited anyone here
	}
	if err != nil {
		return false, cgErr(err, "open %s", parent)
	}
	defer unix.Close(pfd)
	switch err := unix.Unlinkat(pfd, filepath.Base(dir), unix.AT_REMOVEDIR); {
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case err != nil:
		return false, cgErr(err, "remove %s", dir)
	}
	return true, nil
}

// mkdirBeneath makes name in dir (opened without following links beneath
// nothing but itself); an existing one is fine.
func mkdirBeneath(dir, name string) error {
	fd, err := fsutil.OpenDirNoFollow(dir)
	if err != nil {
		return cgErr(err, "open %s", dir)
	}
	defer unix.Close(fd)
	if err := unix.Mkdirat(fd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return cgErr(err, "make %s/%s", dir, name)
	}
	return nil
}

// writeBeneath writes one value to a cgroup file beneath root, never
// following a link and never creating a file: the kernel makes them.
func writeBeneath(root, path, value string) error {
	fd, err := fsutil.OpenBeneath(root, path, unix.O_WRONLY|unix.O_TRUNC, 0)
	if err != nil {
		return cgErr(err, "open %s", path)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value+"\n")); err != nil {
		return cgErr(err, "write %q to %s", value, path)
	}
	return nil
}

func readBeneath(root, path string) (string, error) {
	b, _, err := fsutil.ReadFileBeneath(root, path, 1<<20)
	if err != nil {
		return "", cgErr(err, "read %s", path)
	}
	return strings.TrimSpace(string(b)), nil
}

// cgErr keeps a typed sdk error as it is and types an errno.
func cgErr(err error, format string, args ...any) error {
	var se *sdkerr.Error
	if errors.As(err, &se) {
		return err
	}
	code := sdkerr.Internal
	switch {
	case errors.Is(err, fs.ErrNotExist):
		code = sdkerr.NotFound
	case errors.Is(err, fs.ErrPermission):
		code = sdkerr.PermissionDenied
	case errors.Is(err, unix.EBUSY):
		code = sdkerr.FailedPrecondition
	}
	return sdkerr.Wrap(err, code, "%s: %v", fmt.Sprintf(format, args...), err)
}
