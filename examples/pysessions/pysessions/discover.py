"""What a login session is, found in /proc alone.

A session is rooted at one process:

  - an sshd connection: the root-owned "sshd: USER [priv]" monitor, or a
    "sshd: USER@TTY" process of the user without one above it; the
    executable must be sshd (or sshd-session, OpenSSH 9.8+), since a title
    alone proves nothing. Sessions without a terminal (`ssh host cmd`) are
    found this way too;
  - a terminal login outside sshd: the leader of a POSIX session that has
    a controlling terminal, runs as a user, and was started by a process of
    another uid (login(1) on a console, a getty) — so a tmux pane or a
    shell the user forked is not a login of its own.

Its processes are the root's descendants, the members of the POSIX
sessions those lead (a background job reparented to init keeps its sid),
and, when the session has an audit session id (pam_loginuid), every
process of that audit session (which catches what double-forked away) —
of those, the ones whose real uid is the session's user.

Its id is its audit session id when it has one (the number logind and the
procfs plugin show), else "p<pid>-<start ticks>" of its root, which no
later process can share. utmp is not read: the terminal comes from the
processes, the remote host from the connection sshd holds.
"""

import os
import re
import stat
import time

from . import procfs

_SSHD_TITLE = re.compile(r"(?:sshd|sshd-session): ([A-Za-z_][A-Za-z0-9._-]{0,31})(?: \[priv\]|@(\S+))")
_SSHD_EXE = ("sshd", "sshd-session")


class Session:
    __slots__ = ("id", "user", "uid", "tty", "remote_host", "started", "idle", "root", "audit", "members")

    def target(self):
        return Target(self.uid, self.audit, [self.root] + list(self.members))


class Target:
    """What a kill of a session re-scans for, each round: the processes
    seen so far (seeds), their new descendants and sid members of the
    user, and the audit session's."""

    def __init__(self, uid, audit, seeds):
        self.uid, self.audit, self.seeds = uid, audit, list(seeds)

    def members(self, snap):
        """The live processes of the session in snap; the seeds that are
        gone are dropped, and the members found become seeds."""
        live = [r for r in self.seeds if r[0] in snap.procs and snap.procs[r[0]].start == r[1]]
        out = {}
        for pid, _ in live:
            for q in snap.tree(pid):
                p = snap.procs[q]
                if p.uid == self.uid and not p.zombie:
                    out[q] = p.ref
        for pid in list(out):
            if snap.procs[pid].sid == pid:
                for q in snap.by_sid.get(pid, ()):
                    p = snap.procs[q]
                    if p.uid == self.uid and not p.zombie:
                        out[q] = p.ref
        if self.audit is not None:
            for p in snap.procs.values():
                if p.uid == self.uid and not p.zombie and snap.audit(p.pid) == self.audit:
                    out[p.pid] = p.ref
        self.seeds = list(dict.fromkeys(live + list(out.values())))
        return sorted(out.values())


class Finder:
    """Finds sessions; root and etc are fields so tests can point them
    at fixtures."""

    def __init__(self, root=procfs.PROC, dev="/dev"):
        self.root, self.dev = root, dev

    def snapshot(self):
        return procfs.Snapshot(self.root, skip=os.getpid())

    def find(self, users):
        """Every session, sorted by user, start and id. users maps a name to
        its uid (the account files)."""
        snap = self.snapshot()
        boot = procfs.boot_time(self.root)
        roots = self._sshd_roots(snap, users)
        in_sshd = set()
        for r in roots:
            in_sshd.update(snap.tree(r[0].pid))
        roots += self._tty_roots(snap, users, in_sshd)
        out, ids, now = [], set(), time.time()
        for p, user, uid, sshd in roots:
            s = Session()
            s.user, s.uid, s.root = user, uid, p.ref
            s.audit = self._audit(snap, p, uid)
            s.members = Target(uid, s.audit, [p.ref]).members(snap)
            if not s.members:
                continue  # an sshd monitor still authenticating
            s.id = "p%d-%d" % (p.pid, p.start)
            if s.audit is not None and str(s.audit) not in ids:
                s.id = str(s.audit)
            ids.add(s.id)
            s.started = boot + p.start / procfs.CLK_TCK
            s.tty = next((n for n in (procfs.tty_name(snap.procs[m[0]].tty) for m in s.members) if n), "")
            s.remote_host = procfs.peer_address(p.pid, self.root) if sshd else ""
            s.idle = self._idle(s.tty, now)
            out.append(s)
        out.sort(key=lambda s: (s.user, s.started, s.id))
        return out, snap

    def _sshd_roots(self, snap, users):
        cands = {}
        for p in snap.procs.values():
            if p.comm not in _SSHD_EXE or p.zombie:
                continue
            m = _SSHD_TITLE.fullmatch(procfs.cmdline(p.pid, self.root))
            if m and procfs.exe_base(p.pid, self.root) in _SSHD_EXE:
                cands[p.pid] = (p, m.group(1), m.group(2) is None)
        out = []
        for pid in sorted(cands):
            p, user, priv = cands[pid]
            parent = cands.get(p.ppid)
            if parent and parent[1] == user:
                continue  # the user's half below its monitor
            uid = users.get(user)
            # The monitor runs as root, a lone user half as the user;
            # anything else borrowed the title.
            if uid is None or (priv and p.uid != 0) or (not priv and p.uid != uid):
                continue
            out.append((p, user, uid, True))
        return out

    def _tty_roots(self, snap, users, in_sshd):
        names = {}
        for name, uid in users.items():
            names.setdefault(uid, name)
        out = []
        for p in snap.procs.values():
            if p.sid != p.pid or p.tty == 0 or p.zombie or p.pid in in_sshd or p.uid not in names:
                continue
            parent = snap.procs.get(p.ppid)
            if parent is None or parent.uid == p.uid:
                continue
            out.append((p, names[p.uid], p.uid, False))
        return out

    @staticmethod
    def _audit(snap, root, uid):
        """The audit session the root began, or the first of its processes
        of uid began (sshd's PAM session may start below the monitor); None
        when the session began none. One inherited from the parent is not
        the session's: every connection of an sshd started inside an audit
        session carries that one."""
        for q in snap.tree(root.pid):
            p = snap.procs[q]
            if q != root.pid and p.uid != uid:
                continue
            a = snap.audit(q)
            if a is not None and a != snap.audit(p.ppid):
                return a
        return None

    def _idle(self, tty, now):
        """Since when the terminal was last read from: who(1)'s idle."""
        if not tty or ".." in tty.split("/"):
            return 0
        try:
            st = os.lstat(os.path.join(self.dev, tty))
        except OSError:
            return 0
        if not stat.S_ISCHR(st.st_mode):
            return 0
        return max(0, int(now - st.st_atime))
