"""The input checks every call applies before it touches the OS.

The Go sdk's server adapters run these for a Go plugin (sdk/check and
sdk/sessions' ValidateID, ValidateUser, ValidateGrace); a plugin in another
language must apply the same rules itself, and the conformance kit checks
that it does. re.fullmatch, never "$", which would admit a trailing newline.
"""

import posixpath
import re

from .errors import invalid, quote

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,31}")
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}")

MAX_GRACE_MS = 5 * 60 * 1000
MAX_PATH = 4095


def name(field, value):
    """A user name: no leading "-", no "/" or "..", no ":" or newline, at
    most 32 bytes."""
    if value == "":
        raise invalid(field, "is required")
    if not _NAME.fullmatch(value):
        raise invalid(field, "%s must match %s" % (quote(value), _NAME.pattern))


def optional_name(field, value):
    if value != "":
        name(field, value)


def session_id(value):
    if value == "":
        raise invalid("id", "is required")
    if not _ID.fullmatch(value):
        raise invalid("id", "%s must match %s" % (quote(value), _ID.pattern))


def grace(ms):
    """A kill's grace period in milliseconds: 0 to 5 minutes."""
    if ms < 0 or ms > MAX_GRACE_MS:
        raise invalid("grace_ms", "must be between 0 and 5m0s")
    return ms / 1000.0


def user(u):
    """The user a call names (common.v1.User, lifecycle.User's Validate): a
    valid name, and a home, when given, absolute and clean. The ids are
    the guard's to judge, against the account files."""
    name("user.name", u.name)
    if u.home != "":
        abs_path("user.home", u.home)


def abs_path(field, p):
    """An absolute, clean path, not the root, without NUL or newline
    (sdk/check's AbsPath)."""
    if len(p.encode()) > MAX_PATH:
        raise invalid(field, "is longer than %d bytes" % MAX_PATH)
    if not p.startswith("/"):
        raise invalid(field, "%s is not absolute" % quote(p))
    if "\x00" in p or "\n" in p:
        raise invalid(field, "%s holds a NUL or newline" % quote(p))
    if p == "/":
        raise invalid(field, "must not be the root directory")
    clean = "/" + posixpath.normpath(p).lstrip("/")  # normpath keeps a leading "//"; Go's path.Clean does not
    if clean != p:
        raise invalid(field, "%s is not clean (want %s)" % (quote(p), quote(clean)))
    if ".." in p.split("/"):
        raise invalid(field, "%s holds .." % quote(p))
