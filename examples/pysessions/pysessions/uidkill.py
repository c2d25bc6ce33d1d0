"""Ending every process of one uid, however fast they fork.

What KillUser needs before an account is deleted or locked (userdel
refuses an account that still runs a process), ported from the Go sdk's
sdk/sessions/uidkill. One pass over /proc that signals what it found loses
to a process forking in a loop: the child is born after the scan.
kill(2) with pid -1 does not: the kernel signals every process the caller
may signal in one walk of the task list, under the lock fork needs, and a
parent with SIGKILL pending fails its fork. The signals are sent from a
fresh thread that sets its own real, effective and saved uid to the target
with the raw setresuid system call (glibc's setresuid would change every
thread of the plugin): kill(2)'s permission rule then reaches exactly the
processes whose real or saved uid is the target, and nothing else. The
thread ends right after; no other code ever runs with its credentials.
/proc is read to count what is left and to wait for it to go.
"""

import ctypes
import os
import platform
import signal
import threading
import time

from . import errors, procfs
from .errors import PluginError
from .reap import Interrupted

KILL_WAIT = 5.0

# (setresuid, kill) system call numbers.
_SYSCALLS = {"x86_64": (117, 62), "aarch64": (147, 129)}
_libc = ctypes.CDLL(None, use_errno=True)


def supported():
    return platform.machine() in _SYSCALLS


def end(uid, grace, alive=lambda: True, root=procfs.PROC):
    """Ends every process of uid: SIGTERM and SIGCONT, up to grace for them
    to exit, then SIGKILL until none is left and their zombies are reaped.
    Returns how many processes of uid it found running."""
    if uid <= 0:
        raise PluginError(errors.INVALID_ARGUMENT,
                          "uid %d: ending every process of root or of an invalid uid is never done" % uid)
    if uid in (os.getuid(), os.geteuid()):
        raise PluginError(errors.INVALID_ARGUMENT,
                          "uid %d is this plugin's own: ending its processes would end the plugin's host" % uid)
    live, zombies = scan(uid, root)
    if not live and not zombies:
        return 0
    seen = {p.pid for p in live}
    if live:
        if grace > 0:
            _round(uid, seen, signal.SIGTERM, root)
            _wait_live(uid, seen, grace, None, alive, root)
        _wait_live(uid, seen, KILL_WAIT, signal.SIGKILL, alive, root)
    _wait_reaped(uid, alive, root)
    return len(seen)


def scan(uid, root=procfs.PROC):
    """uid's processes: those with it as their real, effective, saved or
    filesystem uid (what userdel counts), live ones and zombies."""
    live, zombies = [], []
    me = os.getpid()
    for pid in procfs.pids(root):
        if pid == me:
            continue
        p = procfs.read(pid, root)
        if p is not None and uid in p.uids:
            (zombies if p.zombie else live).append(p)
    return live, zombies


def _round(uid, seen, sig, root):
    live, _ = scan(uid, root)
    seen.update(p.pid for p in live)
    if sig is None or not live:
        return live
    for s in (sig, signal.SIGCONT) if sig == signal.SIGTERM else (sig,):
        _kill_all(uid, s)
        # A process whose effective or fs uid alone is uid is out of
        # kill(-1)'s reach as uid, yet userdel counts it: signal it as
        # root, through a pidfd checked to be still of uid.
        for p in live:
            if p.uids[0] != uid and p.uids[2] != uid:
                _signal_one(p, uid, s, root)
    return live


def _wait_live(uid, seen, wait, sig, alive, root):
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        live = _round(uid, seen, sig, root)
        if not live:
            return
        if time.monotonic() > deadline:
            if sig is None:
                return  # the grace is over: on to SIGKILL
            raise PluginError(errors.INTERNAL, "%d processes of uid %d outlived SIGKILL by %gs: %s"
                              % (len(live), uid, wait, [p.pid for p in live]))
        if not alive():
            raise Interrupted()
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _wait_reaped(uid, alive, root):
    """A zombie is not signalled (it has exited) but userdel counts it."""
    deadline = time.monotonic() + KILL_WAIT
    pause = 0.01
    while True:
        live, zombies = scan(uid, root)
        if not live and not zombies:
            return
        if time.monotonic() > deadline:
            if live:
                raise PluginError(errors.INTERNAL, "uid %d started processes again after SIGKILL: %s"
                                  % (uid, [p.pid for p in live]))
            z = zombies[0]
            raise PluginError(errors.FAILED_PRECONDITION,
                              "%d processes of uid %d have exited but are not reaped yet (pid %d, whose parent is "
                              "pid %d): the account counts as in use until they are" % (len(zombies), uid, z.pid, z.ppid))
        if not alive():
            raise Interrupted()
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _kill_all(uid, sig):
    """kill(-1, sig) from a thread whose three uids are all uid."""
    setresuid, kill = _SYSCALLS[platform.machine()]
    result = []

    def run():
        u = ctypes.c_long(uid)
        if _libc.syscall(ctypes.c_long(setresuid), u, u, u) != 0:
            result.append(("setresuid", ctypes.get_errno()))
            return
        if _libc.syscall(ctypes.c_long(kill), ctypes.c_long(-1), ctypes.c_long(int(sig))) != 0:
            e = ctypes.get_errno()
            if e != 3:  # ESRCH: nothing of uid was left to signal
                result.append(("kill(-1)", e))

    t = threading.Thread(target=run, name="uidkill-%d" % uid)
    t.start()
    t.join()
    if result:
        what, e = result[0]
        if e == 1:  # EPERM
            raise PluginError(errors.PERMISSION_DENIED,
                              "cannot act as uid %d to signal its processes (the plugin must run as root)" % uid)
        raise PluginError(errors.INTERNAL, "%s as uid %d for %s: %s" % (what, uid, signal.Signals(sig).name,
                                                                         os.strerror(e)))


def _signal_one(p, uid, sig, root):
    try:
        fd = os.pidfd_open(p.pid)
    except OSError:
        return
    try:
        q = procfs.read(p.pid, root)
        if q is not None and q.start == p.start and uid in q.uids and not q.zombie:
            signal.pidfd_send_signal(fd, sig)
    except OSError:
        pass
    finally:
        os.close(fd)
