"""The plugin's own fence: the root-owned policy and the account files.

Whoever may start the plugin (the driver, through its sudoers rule) may
also call it directly, so it never takes its caller's word for whom it may
touch. It reads /etc/hero_codescalers/policy.toml itself, as the Go sdk's
sdk/policy does — the same defaults when there is no file, the same refusal
of a file (or a directory above it) that anyone but root could have
written — and judges every user by the machine's passwd and group: only
members of the marker group with a uid in the policy's range are managed;
root, system accounts and people's own accounts never are.
"""

import errno
import os
import stat
import threading
import tomllib

from . import errors
from .errors import PluginError, quote

PATH = "/etc/hero_codescalers/policy.toml"
MAX_POLICY = 1 << 20
UINT32_MAX = (1 << 32) - 1


class PolicyError(Exception):
    """The policy cannot be used: the plugin refuses every call."""


class Policy:
    def __init__(self, etc="/etc"):
        defs = _login_defs(os.path.join(etc, "login.defs"))
        self.home_roots = ["/home"]
        self.marker_group = "codescalers"
        self.uid_min = defs.get("UID_MIN", 1000)
        self.uid_max = defs.get("UID_MAX", 60000)
        self.gid_min = defs.get("GID_MIN", 1000)
        self.gid_max = defs.get("GID_MAX", 60000)
        self.groups = []
        self.driver = "driver"
        self.roots = {}
        self.source = "built-in defaults"

    def uid_allowed(self, uid):
        return uid != 0 and self.uid_min <= uid <= self.uid_max


def load(path=PATH, etc="/etc"):
    """The policy at path, or the defaults (from etc's login.defs) when
    there is none. Raises PolicyError for one that is not root-owned and
    protected, does not parse, or does not validate."""
    try:
        data = _read_protected(path)
    except FileNotFoundError:
        return Policy(etc)
    except OSError as exc:
        raise PolicyError("policy %s: %s" % (path, exc)) from exc
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError("policy %s: %s" % (path, exc)) from exc
    p = Policy(etc)
    p.home_roots = []
    for key, kind in (("home_roots", "strings"), ("marker_group", "string"), ("uid_min", "uint32"),
                      ("uid_max", "uint32"), ("gid_min", "uint32"), ("gid_max", "uint32"),
                      ("groups", "strings"), ("driver", "string"), ("roots", "roots")):
        if key in doc:
            setattr(p, key, _typed(path, key, doc[key], kind))
    if not p.home_roots:
        p.home_roots = ["/home"]
    p.source = path
    _validate(path, p)
    return p


def _typed(path, key, value, kind):
    ok = {
        "string": lambda v: isinstance(v, str),
        "strings": lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
        "uint32": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= UINT32_MAX,
        "roots": lambda v: isinstance(v, dict) and all(
            isinstance(r, list) and all(isinstance(s, str) for s in r) for r in v.values()),
    }[kind](value)
    if not ok:
        raise PolicyError("policy %s: %s: want %s, have %s" % (path, key, kind, quote(repr(value))))
    return value


def _validate(path, p):
    def fail(msg):
        raise PolicyError("policy %s: %s" % (path, msg))
    for r in p.home_roots:
        _check_root(fail, "home_roots", r)
    for name, roots in p.roots.items():
        for r in roots:
            _check_root(fail, "roots." + name, r)
    if not p.marker_group:
        fail("marker_group is empty")
    if p.uid_min == 0 or p.uid_min > p.uid_max:
        fail("uid range %d..%d: want 0 < uid_min <= uid_max" % (p.uid_min, p.uid_max))
    if p.gid_min == 0 or p.gid_min > p.gid_max:
        fail("gid range %d..%d: want 0 < gid_min <= gid_max" % (p.gid_min, p.gid_max))


def _check_root(fail, field, r):
    if not _abs_clean(r):
        fail("%s: %s must be an absolute, clean path" % (field, quote(r)))
    if r == "/":
        fail('%s: "/" would fence nothing' % field)


def _abs_clean(p):
    """Go's filepath.IsAbs(p) && filepath.Clean(p) == p."""
    if not p.startswith("/"):
        return False
    if p == "/":
        return True
    return not p.endswith("/") and all(e not in ("", ".", "..") for e in p[1:].split("/"))


def _read_protected(path):
    """Reads path, never through a symlink, after checking that it and
    every directory above it are owned by root (or this process's euid, for
    unprivileged tests) and writable by nobody else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PolicyError("policy file is not root-owned and protected: %s is a symlink" % path) from exc
        raise
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise PolicyError("policy file is not root-owned and protected: %s is not a regular file" % path)
        _protected(path, st)
        d = os.path.dirname(path)
        while True:
            _protected(d, os.lstat(d))
            if d == "/":
                break
            d = os.path.dirname(d)
        data = f.read(MAX_POLICY + 1)
    if len(data) > MAX_POLICY:
        raise PolicyError("policy file is over the %d-byte limit" % MAX_POLICY)
    return data


def _protected(path, st):
    if st.st_uid != 0 and st.st_uid != os.geteuid():
        raise PolicyError("policy file is not root-owned and protected: %s is owned by uid %d" % (path, st.st_uid))
    if stat.S_IMODE(st.st_mode) & 0o022:
        raise PolicyError("policy file is not root-owned and protected: %s is writable by group or others (mode %#o)"
                          % (path, stat.S_IMODE(st.st_mode)))


def _login_defs(path):
    out = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 2 and not fields[0].startswith("#"):
                    try:
                        v = int(fields[1].strip('"'))
                    except ValueError:
                        continue
                    if 0 <= v <= UINT32_MAX:
                        out[fields[0]] = v
    except OSError:
        pass
    return out


class Accounts:
    """passwd and group as the policy judges them, read as sdk/policy reads
    them: comments and NIS lines skipped, the first entry of a name wins."""

    def __init__(self, etc):
        self.users, self.by_uid = {}, {}
        for f in _entries(os.path.join(etc, "passwd")):
            if len(f) < 4:
                continue
            uid, gid = _uint(f[2]), _uint(f[3])
            if uid is None or gid is None:
                continue
            self.users.setdefault(f[0], (uid, gid))
            self.by_uid.setdefault(uid, []).append(f[0])
        self.groups = {}
        for f in _entries(os.path.join(etc, "group")):
            if len(f) < 4:
                continue
            gid = _uint(f[2])
            if gid is not None:
                self.groups.setdefault(f[0], (gid, [m for m in f[3].split(",") if m]))


def _entries(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f.read().split("\n"):
            if line and line[0] not in "#+-":
                yield line.split(":")


def _uint(s):
    """Go's strconv.ParseUint(s, 10, 32): ASCII digits only, no sign."""
    if not (s.isascii() and s.isdigit()):
        return None
    v = int(s, 10)
    return v if v <= UINT32_MAX else None


class Guard:
    """Whose sessions and processes a call may touch (sdk/sessions/guard).
    The account files are re-read only when they changed."""

    def __init__(self, etc="/etc"):
        self.etc = etc
        self.err = None
        try:
            self.policy = load(os.path.join(etc, "hero_codescalers", "policy.toml"), etc)
        except PolicyError as exc:
            self.policy, self.err = None, exc
        self._lock = threading.Lock()
        self._stamp, self._accounts = None, None

    def check(self):
        """Raises when the policy could not be used."""
        if self.err is not None:
            raise PluginError(errors.FAILED_PRECONDITION, "the sessions plugin refuses every call: %s" % self.err)

    def accounts(self):
        self.check()
        with self._lock:
            try:
                stamp = tuple(_stamp(os.path.join(self.etc, n)) for n in ("passwd", "group"))
                if stamp != self._stamp:
                    self._accounts, self._stamp = Accounts(self.etc), stamp
            except OSError as exc:
                raise PluginError(errors.UNAVAILABLE, "cannot read the account files: %s" % exc) from exc
            return self._accounts

    def managed(self, user, acc=None):
        """Whether user is a managed account (sdk/policy's UserManaged)."""
        acc = acc or self.accounts()
        ent = acc.users.get(user)
        marker = acc.groups.get(self.policy.marker_group)
        if ent is None or marker is None or not self.policy.uid_allowed(ent[0]):
            return False
        return user in marker[1] or ent[1] == marker[0]

    def user(self, user):
        """Admits a call on user's sessions: NotFound without an account,
        PermissionDenied for any account that is not managed."""
        acc = self.accounts()
        if user not in acc.users:
            raise PluginError(errors.NOT_FOUND, "no account %s" % quote(user))
        if not self.managed(user, acc):
            p = self.policy
            raise PluginError(errors.PERMISSION_DENIED,
                              "%s is not a managed account (a member of %s with a uid in %d..%d); its sessions and "
                              "processes are not this plugin's to touch" % (quote(user), p.marker_group, p.uid_min, p.uid_max))
        return acc.users[user][0]

    def uid(self, user):
        """Admits signalling every process of user's uid: besides user(),
        every account sharing the uid must be managed too."""
        uid = self.user(user)
        acc = self.accounts()
        others = [n for n in acc.by_uid.get(uid, []) if n != user and not self.managed(n, acc)]
        if others:
            raise PluginError(errors.PERMISSION_DENIED,
                              "uid %d of %s is shared with %s, which are not all managed accounts; refusing to signal "
                              "its processes" % (uid, quote(user), others))
        return uid


    def forgettable(self, user, uid):
        """Admits the end of a user (Forget; sdk/sessions/guard's
        Forgettable): a name no account has any more (a crash may come
        between the account's removal and Forget), or a managed account of
        that very uid; any other is refused."""
        acc = self.accounts()
        if user not in acc.users:
            return
        have = self.user(user)
        if have != uid:
            raise PluginError(errors.PERMISSION_DENIED, "account %s has uid %d, not %d; refused" % (quote(user), have, uid))


def _stamp(path):
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
