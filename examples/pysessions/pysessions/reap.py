"""Ending a group of processes that may grow while it works.

SIGHUP (and SIGCONT) first, up to half the grace for the group to go;
SIGTERM (and SIGCONT) for the rest of it; then SIGKILL, up to KILL_WAIT.
Each round re-reads /proc through the caller's members(), so a child
forked meanwhile is signalled too. Every signal goes through a pidfd that
is checked against the process's start time after it was opened, so a pid
the kernel handed to a later process is never signalled.
"""

import os
import signal
import time

from . import errors, procfs
from .errors import PluginError

KILL_WAIT = 5.0


class Interrupted(Exception):
    """The caller gave up (its deadline passed, or it went away)."""


def end(members, grace, alive=lambda: True, root=procfs.PROC):
    """Signals what members() returns until it returns nothing. alive()
    says whether the caller still waits. Raises PluginError when processes
    outlive SIGKILL by KILL_WAIT."""
    phases = ((signal.SIGHUP, grace / 2), (signal.SIGTERM, grace - grace / 2), (signal.SIGKILL, KILL_WAIT))
    for sig, wait in phases:
        if _phase(members, sig, wait, alive, root):
            return
    left = members()
    if left:
        raise PluginError(errors.INTERNAL, "%d processes outlived SIGKILL by %gs: %s"
                          % (len(left), KILL_WAIT, [r[0] for r in left]))


def _phase(members, sig, wait, alive, root):
    """Signals every member once; re-reads the group with a growing pause
    until it is empty (True) or the phase's time is up (False)."""
    deadline = time.monotonic() + wait
    signalled = set()
    pause = 0.005
    while True:
        group = members()
        if not group:
            return True
        fresh = [r for r in group if r not in signalled]
        for ref in fresh:
            send(ref, sig, root)
            signalled.add(ref)
        if time.monotonic() >= deadline:
            return False
        if not alive():
            raise Interrupted()
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.1)


def send(ref, sig, root=procfs.PROC):
    """Sends sig (and SIGCONT after SIGHUP or SIGTERM, so a stopped process
    acts on it) to the process ref names, if it is still that process."""
    pid, start = ref
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        p = procfs.read(pid, root)
        if p is None or p.start != start:
            return
        for s in (sig, signal.SIGCONT) if sig in (signal.SIGHUP, signal.SIGTERM) else (sig,):
            signal.pidfd_send_signal(fd, s)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise PluginError(errors.PERMISSION_DENIED, "not allowed to send %s to pid %d"
                          % (signal.Signals(sig).name, pid)) from exc
    finally:
        os.close(fd)
