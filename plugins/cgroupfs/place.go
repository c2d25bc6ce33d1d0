package cgroupfs

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
)

// Putting a user's processes in its cgroup. Neither cgroup version places
// a process by its uid, and no PAM module or sshd wrapper of ours sits in
// the login path (neither runs a shell line, and neither is there on a
// machine we did not configure). The plugin does it itself, as libcgroup's
// cgrulesengd does:
//
//   - at Set, every running process of the uid is moved (the sweep);
//   - from then on, the kernel's process events (the proc connector,
//     NETLINK_CONNECTOR/CN_IDX_PROC) say at once when a process changes
//     its uid (sshd's session child dropping root for the user), forks or
//     execs: a process of a limited uid outside its cgroup is moved
//     before it has done much — its children, forked after, are born in
//     the cgroup;
//   - a sweep every SweepEvery, and one whenever the event socket
//     overflowed, catch what an event could not (the plugin restarted,
//     events lost), so a process escapes its limits for seconds at most.
//
// A process whose uid has no cgroup of ours is never touched, and a uid
// is only limited while the policy says it is a managed account's alone.

// SweepEvery is the backstop sweep's period.
const SweepEvery = 2 * time.Second

// tracker listens to the kernel's process events.
type tracker struct {
	fd int
}

// procUID is the real uid of pid, from /proc/pid/status.
func procUID(proc string, pid int) (uint32, bool) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			u, err := strconv.ParseUint(f[0], 10, 32)
			return uint32(u), err == nil
		}
	}
	return 0, false
}

// owner is the uid a sweep files pid under: the owner of /proc/PID, the
// process's effective uid. A stat is far cheaper than reading its status
// (BenchmarkSweep, one run on this loaded 2-core machine, 258 processes:
// 1.6 ms a sweep by stat, 27 ms by status); a set-uid program a limited
// user runs was forked in the user's cgroup anyway.
func (c *Cgroupfs) owner(pid int) (uint32, bool) {
	if c.ownerOf != nil {
		return c.ownerOf(pid)
	}
	var st unix.Stat_t
	if unix.Stat(filepath.Join(c.opts.Proc, strconv.Itoa(pid)), &st) != nil {
		return 0, false
	}
	return st.Uid, true
}

// limitedUIDs are the uids whose processes go to a cgroup of ours, each
// still a managed account's alone.
func (c *Cgroupfs) limitedUIDs() map[uint32]bool {
	c.mu.Lock()
	out := make(map[uint32]bool, len(c.limited))
	for u := range c.limited {
		out[u] = true
	}
	c.mu.Unlock()
	if len(out) == 0 {
		return out
	}
	m, err := c.machine()
	if err != nil {
		return map[uint32]bool{}
	}
	for u := range out {
		if !m.UIDManaged(u) {
			delete(out, u)
		}
	}
	return out
}

// sweep moves every process of uids (all limited uids when nil) that is
// not in its cgroup yet, and counts them.
func (c *Cgroupfs) sweep(uids []uint32) int {
	want := c.limitedUIDs()
	if uids != nil {
		only := map[uint32]bool{}
		for _, u := range uids {
			if want[u] {
				only[u] = true
			}
		}
		want = only
	}
	if len(want) == 0 {
		return 0
	}
	ents, err := os.ReadDir(c.opts.Proc)
	if err != nil {
		return 0
	}
	moved := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if uid, ok := c.owner(pid); ok && want[uid] && c.place(pid, uid) {
			moved++
		}
	}
	return moved
}

// place moves pid into uid's cgroups unless it is there; true when it
// moved. A process that ended meanwhile is no error.
func (c *Cgroupfs) place(pid int, uid uint32) bool {
	name := "/" + Parent + "/" + cgroupName(uid)
	if c.inCgroup(pid, name) {
		return false
	}
	moved := false
	for _, p := range c.layout.Parents() {
		err := writeBeneath(p, filepath.Join(p, cgroupName(uid), "cgroup.procs"), strconv.Itoa(pid))
		if err == nil {
			moved = true
		}
	}
	return moved
}

// inCgroup reports whether /proc/pid/cgroup puts pid in the cgroup name of
// every hierarchy the plugin uses (memory's on v1, the unified one on v2).
func (c *Cgroupfs) inCgroup(pid int, name string) bool {
	b, err := os.ReadFile(filepath.Join(c.opts.Proc, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return false
	}
	need := 0
	have := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		ctls := strings.Split(f[1], ",")
		relevant := (c.layout.Version() == 2 && f[0] == "0") ||
			(c.layout.Version() == 1 && (contains(ctls, "memory") || (c.layout.CPU != "" && contains(ctls, "cpu"))))
		if !relevant {
			continue
		}
		need++
		if f[2] == name {
			have++
		}
	}
	return need > 0 && have == need
}

// Track starts placing processes: the limited uids are those with a
// cgroup of ours (a restarted plugin finds them there), swept at once and
// every SweepEvery; the process events move the rest as they happen. It
// returns once the first sweep is done.
func (c *Cgroupfs) Track(log hclog.Logger, stop <-chan struct{}) {
	if c.lerr != nil || c.perr != nil {
		return
	}
	c.mu.Lock()
	for _, p := range c.layout.Parents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			if u, ok := strings.CutPrefix(e.Name(), "user-"); ok && e.IsDir() {
				if n, err := strconv.ParseUint(u, 10, 32); err == nil && n != 0 {
					c.limited[uint32(n)] = true
				}
			}
		}
	}
	c.mu.Unlock()
	c.sweep(nil)
	t, err := listen()
	if err == nil && !initPIDNamespace() {
		unix.Close(t.fd)
		err = errors.New("the plugin runs in a child pid namespace, where the kernel sends none")
	}
	if err != nil {
		log.Warn("no process events (the proc connector): processes are put in their cgroup by the sweep alone, every "+SweepEvery.String(), "err", err)
	} else {
		c.tracker = t
		go c.events(log, stop)
	}
	go func() {
		tick := time.NewTicker(SweepEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				c.sweep(nil)
			}
		}
	}()
}

// events reads process events until stop.
func (c *Cgroupfs) events(log hclog.Logger, stop <-chan struct{}) {
	go func() { <-stop; unix.Close(c.tracker.fd) }()
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(c.tracker.fd, buf, 0)
		switch {
		case errors.Is(err, unix.ENOBUFS):
			c.sweep(nil) // events were lost
			continue
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			select {
			case <-stop:
			default:
				log.Warn("process events ended; the sweep goes on", "err", err)
			}
			return
		}
		for _, ev := range parseEvents(buf[:n]) {
			want := c.limitedUIDs()
			if len(want) == 0 {
				continue
			}
			uid, ok := ev.uid, ev.hasUID
			if !ok {
				uid, ok = procUID(c.opts.Proc, ev.pid)
			}
			if ok && want[uid] {
				c.place(ev.pid, uid)
			}
		}
	}
}

// The proc connector's constants (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventFork     = 0x1
	procEventExec     = 0x2
	procEventUID      = 0x4
	nlmsgHdrLen       = 16
	cnMsgLen          = 20
)

// listen subscribes to the kernel's process events: root only, and only
// in the initial network namespace.
func listen() (*tracker, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc, Pid: 0}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne := nativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	ne.PutUint32(msg[16:], cnIdxProc)
	ne.PutUint32(msg[20:], cnValProc)
	ne.PutUint16(msg[32:], 4)
	ne.PutUint32(msg[36:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &tracker{fd: fd}, nil
}

// initPIDNamespace reports whether the plugin runs in the machine's pid
// namespace, the only one the kernel sends process events to (its inode
// is fixed: PROC_PID_INIT_INO).
func initPIDNamespace() bool {
	var st unix.Stat_t
	return unix.Stat("/proc/self/ns/pid", &st) == nil && st.Ino == 0xEFFFFFFC
}

// event is a process the kernel said forked, exec'd or changed its uid.
type event struct {
	pid    int
	uid    uint32
	hasUID bool
}

// parseEvents reads the netlink messages of one datagram: each an nlmsghdr,
// a cn_msg, then a proc_event (what, cpu, timestamp, then its data).
func parseEvents(b []byte) []event {
	ne := nativeEndian
	var out []event
	for len(b) >= nlmsgHdrLen {
		l := int(ne.Uint32(b[0:]))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		msg := b[nlmsgHdrLen:l]
		b = b[(l+3)&^3:]
		if len(msg) < cnMsgLen+16 || ne.Uint32(msg[0:]) != cnIdxProc {
			continue
		}
		ev := msg[cnMsgLen:]
		what, data := ne.Uint32(ev[0:]), ev[16:]
		switch {
		case what == procEventFork && len(data) >= 16:
			child, tgid := ne.Uint32(data[8:]), ne.Uint32(data[12:])
			if child == tgid { // a new process, not a thread
				out = append(out, event{pid: int(tgid)})
			}
		case what == procEventExec && len(data) >= 8:
			out = append(out, event{pid: int(ne.Uint32(data[4:]))})
		case what == procEventUID && len(data) >= 16:
			out = append(out, event{pid: int(ne.Uint32(data[4:])), uid: ne.Uint32(data[8:]), hasUID: true})
		}
		if len(b) < nlmsgHdrLen {
			break
		}
	}
	return out
}
