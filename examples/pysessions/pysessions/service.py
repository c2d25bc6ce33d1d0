"""The sessions and identity services: the sdk's contracts, from the stubs
build.sh generated, for the managed accounts the guard admits and no one
else. Each call checks its input first (checks), as the Go sdk's server
adapters do for a Go plugin, then asks the guard, then touches /proc.
"""

import importlib
import os

from common.v1 import lifecycle_pb2
from identity.v1 import identity_pb2, identity_pb2_grpc

from . import _build, checks, errors, reap, uidkill
from .discover import Finder
from .errors import PluginError

# The contract's modules, by the version build.sh generated them for.
sessions_pb2 = importlib.import_module("sessions.%s.sessions_pb2" % _build.SESSIONS_API)
sessions_pb2_grpc = importlib.import_module("sessions.%s.sessions_pb2_grpc" % _build.SESSIONS_API)

NAME = "pysessions"
CONCERNS = ["sessions"]
API_VERSIONS = ["identity.v1", "sessions." + _build.SESSIONS_API]


def manifest():
    """The manifest `describe` prints and the host reads beside the binary;
    GetInfo answers the same."""
    return {"schema": 1, "name": NAME, "version": _build.VERSION, "concerns": CONCERNS,
            "api_versions": API_VERSIONS, "supports": {"generic": True}}


def _alive(context):
    return context.is_active


class Sessions(sessions_pb2_grpc.SessionsServicer):
    def __init__(self, guard, log, finder=None):
        self.guard, self.log = guard, log
        self.finder = finder or Finder()
        handler = errors.handler(log)
        for m in ("ListSessions", "KillSession", "KillUserSessions", "KillUser", "Forget"):
            setattr(self, m, handler(getattr(type(self), m)).__get__(self))

    def _find(self, user=""):
        """The sessions of user (everyone's when ""), and the snapshot of
        /proc they were found in."""
        try:
            found, snap = self.finder.find({n: u[0] for n, u in self.guard.accounts().users.items()})
        except OSError as exc:
            raise PluginError(errors.INTERNAL, "cannot read processes: %s" % exc) from exc
        return [s for s in found if not user or s.user == user], snap

    def ListSessions(self, request, context):
        checks.optional_name("user", request.user)
        if request.user:
            try:
                self.guard.user(request.user)
            except PluginError as err:
                if err.code == errors.NOT_FOUND:
                    return sessions_pb2.ListSessionsResponse()  # no account, no sessions
                raise
        acc = self.guard.accounts()
        out = [_to_proto(s) for s in self._find(request.user)[0] if self.guard.managed(s.user, acc)]
        return sessions_pb2.ListSessionsResponse(sessions=out)

    def KillSession(self, request, context):
        checks.session_id(request.id)
        grace = checks.grace(request.grace_ms)
        self.guard.check()
        for s in self._find()[0]:
            if s.id == request.id:
                try:
                    self.guard.user(s.user)
                except PluginError as err:
                    raise PluginError(errors.PERMISSION_DENIED, "session %s is %s's: %s" % (s.id, s.user, err)) from err
                self._end([s], "", grace, context)
                break
        return sessions_pb2.KillSessionResponse()  # one that is not there is already ended

    def KillUserSessions(self, request, context):
        checks.name("user", request.user)
        grace = checks.grace(request.grace_ms)
        if not self._admit(request.user):
            return sessions_pb2.KillUserSessionsResponse(killed=0)
        return sessions_pb2.KillUserSessionsResponse(killed=self._kill_sessions(request.user, grace, context))

    def KillUser(self, request, context):
        checks.name("user", request.user)
        grace = checks.grace(request.grace_ms)
        try:
            uid = self.guard.uid(request.user)
        except PluginError as err:
            if err.code == errors.NOT_FOUND:
                return sessions_pb2.KillUserResponse()  # no account, nothing runs as it
            raise
        n = self._kill_sessions(request.user, grace, context)
        try:
            procs = uidkill.end(uid, grace, _alive(context))
        except reap.Interrupted as exc:
            raise PluginError(errors.UNAVAILABLE, "ending the processes of uid %d was interrupted" % uid) from exc
        return sessions_pb2.KillUserResponse(sessions=n, processes=procs)

    def Forget(self, request, context):
        """The end of a user (sessions v2): this plugin keeps nothing of a
        user beyond its processes, which KillUser ended, so it only judges
        the user, as procfs does. (A v1 build serves no Forget; the host's
        adapter forgets nothing for it.)"""
        checks.user(request.user)
        self.guard.forgettable(request.user.name, request.user.uid)
        return lifecycle_pb2.ForgetResponse()

    def _admit(self, user):
        """Whether user's sessions may be ended: False when no account has
        the name (it has none), a PluginError for an unmanaged account."""
        try:
            self.guard.user(user)
        except PluginError as err:
            if err.code == errors.NOT_FOUND:
                return False
            raise
        return True

    def _kill_sessions(self, user, grace, context):
        found = self._find(user)[0]
        return self._end(found, user, grace, context) if found else 0

    def _end(self, found, user, grace, context):
        """Signals the sessions' processes until none is left; with user
        set, sessions of that user opened meanwhile are ended too. Returns
        how many sessions it ended."""
        targets = {s.id: s.target() for s in found}

        def members():
            # One reading of /proc a round: with user set, the one that
            # also finds the sessions opened meanwhile.
            if user:
                found, snap = self._find(user)
                for s in found:
                    targets.setdefault(s.id, s.target())
            else:
                snap = self.finder.snapshot()
            out = set()
            for t in targets.values():
                out.update(t.members(snap))
            return sorted(out)

        try:
            reap.end(members, grace, _alive(context))
        except reap.Interrupted as exc:
            raise PluginError(errors.UNAVAILABLE, "ending %d session(s) was interrupted" % len(targets)) from exc
        return len(targets)


def _to_proto(s):
    return sessions_pb2.Session(id=s.id, user=s.user, tty=s.tty, remote_host=s.remote_host,
                                started=int(s.started), idle_secs=int(s.idle), pids=[m[0] for m in s.members])


class Identity(identity_pb2_grpc.IdentityServicer):
    def __init__(self, guard, log):
        self.guard = guard
        handler = errors.handler(log)
        for m in ("GetInfo", "Probe"):
            setattr(self, m, handler(getattr(type(self), m)).__get__(self))

    def GetInfo(self, request, context):
        m = manifest()
        return identity_pb2.GetInfoResponse(name=m["name"], version=m["version"], concerns=m["concerns"],
                                            api_versions=m["api_versions"],
                                            supports=identity_pb2.Supports(generic=True))

    def Probe(self, request, context):
        ready, reason = probe(self.guard)
        return identity_pb2.ProbeResponse(ready=ready, reason=reason)


def probe(guard):
    """Ready where the policy could be read, /proc is there, the plugin
    runs as root (ending other users' processes needs it) and knows this
    machine's system call numbers."""
    try:
        guard.check()
    except PluginError as err:
        return False, err.message
    if not os.path.exists("/proc/self/stat"):
        return False, "no procfs mounted at /proc"
    if os.geteuid() != 0:
        return False, "not root: other users' sessions can be seen only in part and not ended"
    if not uidkill.supported():
        return False, "KillUser does not know the system calls of %s" % os.uname().machine
    return True, ""
