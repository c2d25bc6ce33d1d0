"""One reading of /proc: every process with what the session model needs.

A process is known by its pid and its start time (clock ticks after boot),
a Ref, so a pid the kernel hands to a later process is never taken for the
one seen before. Nothing here follows a path a user controls: /proc's own
entries only.
"""

import ipaddress
import os

PROC = "/proc"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NO_AUDIT = 4294967295  # /proc/PID/sessionid of a process outside any audit session


class Proc:
    __slots__ = ("pid", "ppid", "sid", "tty", "start", "zombie", "uids", "comm")

    @property
    def ref(self):
        return (self.pid, self.start)

    @property
    def uid(self):
        """The real uid: whose process it is."""
        return self.uids[0]


def read(pid, root=PROC):
    """The process pid as /proc shows it now, or None when it is gone."""
    try:
        with open("%s/%d/stat" % (root, pid), "rb") as f:
            raw = f.read()
        with open("%s/%d/status" % (root, pid), "rb") as f:
            status = f.read()
    except OSError:
        return None
    i = raw.rfind(b")")
    if i < 0:
        return None
    fields = raw[i + 2:].split()
    if len(fields) < 20:
        return None
    p = Proc()
    p.pid = pid
    p.comm = raw[raw.find(b"(") + 1:i].decode("utf-8", "replace")
    p.zombie = fields[0] in (b"Z", b"X")
    p.ppid, p.sid, p.tty, p.start = int(fields[1]), int(fields[3]), int(fields[4]), int(fields[19])
    p.uids = (-1, -1, -1, -1)
    threads = 1
    for line in status.split(b"\n"):
        if line.startswith(b"Uid:"):
            p.uids = tuple(int(u) for u in line.split()[1:5])
        elif line.startswith(b"Threads:"):
            threads = int(line.split()[1])
    # A zombie leader whose other threads still run has not exited.
    p.zombie = p.zombie and threads <= 1
    return p


def pids(root=PROC):
    return [int(n) for n in os.listdir(root) if n.isdigit()]


class Snapshot:
    """Every process at one moment, indexed by parent and by POSIX session."""

    def __init__(self, root=PROC, skip=None):
        self.root = root
        self.procs, self.children, self.by_sid = {}, {}, {}
        for pid in pids(root):
            if pid == skip:
                continue
            p = read(pid, root)
            if p is None:
                continue
            self.procs[pid] = p
            self.children.setdefault(p.ppid, []).append(pid)
            self.by_sid.setdefault(p.sid, []).append(pid)
        self._audit = {}

    def alive(self, ref):
        p = self.procs.get(ref[0])
        return p is not None and p.start == ref[1] and not p.zombie

    def tree(self, pid):
        """pid and its descendants."""
        out, todo = [], [pid]
        while todo:
            q = todo.pop()
            if q in self.procs:
                out.append(q)
                todo.extend(self.children.get(q, ()))
        return out

    def audit(self, pid):
        """The audit session (pam_loginuid) pid belongs to, or None."""
        if pid not in self._audit:
            try:
                with open("%s/%d/sessionid" % (self.root, pid), "rb") as f:
                    v = int(f.read().strip() or NO_AUDIT)
            except (OSError, ValueError):
                v = NO_AUDIT
            self._audit[pid] = None if v == NO_AUDIT else v
        return self._audit[pid]


def cmdline(pid, root=PROC):
    """The process title, its arguments joined by spaces."""
    try:
        with open("%s/%d/cmdline" % (root, pid), "rb") as f:
            raw = f.read(4096)
    except OSError:
        return ""
    return " ".join(a.decode("utf-8", "replace") for a in raw.split(b"\0") if a)


def exe_base(pid, root=PROC):
    """The base name of the executable the process runs; "" when unknown.
    Unlike the title, a process cannot change it."""
    try:
        target = os.readlink("%s/%d/exe" % (root, pid))
    except OSError:
        return ""
    return os.path.basename(target.removesuffix(" (deleted)"))


def boot_time(root=PROC):
    with open(root + "/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime "):
                return int(line.split()[1])
    raise OSError("no btime in %s/stat" % root)


def tty_name(dev):
    """The terminal of a tty_nr as /dev and utmp name it: pts/N, ttyN,
    ttySN; "" for anything else."""
    major = (dev >> 8) & 0xFFF
    minor = (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    if 136 <= major <= 143:
        return "pts/%d" % ((major - 136) * 256 + minor)
    if major == 4 and 1 <= minor < 64:
        return "tty%d" % minor
    if major == 4 and 64 <= minor < 256:
        return "ttyS%d" % (minor - 64)
    return ""


def peer_address(pid, root=PROC):
    """The remote address of the first established TCP connection pid
    holds open, as sshd's per-connection processes do; "" when none."""
    inodes = []
    fd_dir = "%s/%d/fd" % (root, pid)
    try:
        fds = sorted(int(n) for n in os.listdir(fd_dir) if n.isdigit())
    except OSError:
        return ""
    for fd in fds:
        try:
            target = os.readlink("%s/%d" % (fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.append(target[8:-1])
    if not inodes:
        return ""
    peers = {}
    for table in ("tcp", "tcp6"):
        try:
            with open("%s/%d/net/%s" % (root, pid, table), "rb") as f:
                lines = f.read().decode("ascii", "replace").split("\n")[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) >= 10 and f[3] == "01" and f[9] != "0":  # TCP_ESTABLISHED
                addr = _hex_addr(f[2])
                if addr:
                    peers[f[9]] = addr
    for ino in inodes:
        if ino in peers:
            return peers[ino]
    return ""


def _hex_addr(s):
    """"0100007F:D6F4" → "127.0.0.1": each 32-bit word in host (little
    endian) order; an IPv4-mapped IPv6 address comes back as IPv4."""
    host, _, _ = s.partition(":")
    if len(host) not in (8, 32):
        return ""
    try:
        raw = bytes.fromhex(host)
    except ValueError:
        return ""
    raw = b"".join(raw[w:w + 4][::-1] for w in range(0, len(raw), 4))
    a = ipaddress.ip_address(raw)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped:
        a = a.ipv4_mapped
    return str(a)
