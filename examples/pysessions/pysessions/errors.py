"""The sdk's one error type, as a Python exception, and how it travels.

A call fails with a PluginError carrying one of the sdk's codes (sdkerr).
On the wire it becomes what the Go sdk's sdkerrgrpc.ToStatus makes: the
matching gRPC status code and message, and a google.rpc.Status in the
grpc-status-details-bin trailer whose details hold a
hero_codescalers.common.v1.ErrorDetail, so the host rebuilds the same typed
error (code, field, command, exit code, stderr), not one guessed from the
bare gRPC code.
"""

import collections
import functools
import json
import traceback

import grpc
from google.protobuf import any_pb2

from common.v1 import common_pb2
from rpcstatus import status_pb2

INVALID_ARGUMENT = "invalid_argument"
NOT_FOUND = "not_found"
ALREADY_EXISTS = "already_exists"
FAILED_PRECONDITION = "failed_precondition"
UNAVAILABLE = "unavailable"
PERMISSION_DENIED = "permission_denied"
INTERNAL = "internal"
UNIMPLEMENTED = "unimplemented"

_GRPC_CODES = {
    INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    INTERNAL: grpc.StatusCode.INTERNAL,
    UNIMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
}

MAX_STDERR = 4096


class PluginError(Exception):
    """A call's failure: a code, a message, the request field at fault,
    and for a failed OS command its argv, exit code and stderr."""

    def __init__(self, code, message, field="", command=None, exit_code=0, stderr=""):
        super().__init__(message)
        self.code = code if code in _GRPC_CODES else INTERNAL
        self.message = message
        self.field = field
        self.command = list(command or [])
        self.exit_code = exit_code
        self.stderr = stderr[-MAX_STDERR:]

    def __str__(self):
        out = self.code
        if self.field:
            out += ": " + self.field
        if self.message:
            out += ": " + self.message
        return out


def quote(s):
    """Quotes a value in a message as Go's %q would (near enough)."""
    return json.dumps(s, ensure_ascii=False)


def invalid(field, message):
    return PluginError(INVALID_ARGUMENT, message, field=field)


class _Status(collections.namedtuple("_Status", ("code", "details", "trailing_metadata")), grpc.Status):
    pass


def to_status(err):
    """The grpc.Status a PluginError travels as."""
    detail = common_pb2.ErrorDetail(code=err.code, message=err.message, field=err.field,
                                    command=err.command, exit_code=err.exit_code, stderr=err.stderr)
    packed = any_pb2.Any()
    packed.Pack(detail)
    code = _GRPC_CODES[err.code]
    st = status_pb2.Status(code=code.value[0], message=err.message, details=[packed])
    return _Status(code, err.message, (("grpc-status-details-bin", st.SerializeToString()),))


def handler(log):
    """Decorates a servicer method: a PluginError aborts the call with its
    status; anything else is an Internal error, logged with its traceback
    (a bug must not pass as success nor kill the plugin)."""

    def wrap(fn):
        @functools.wraps(fn)
        def call(self, request, context):
            try:
                return fn(self, request, context)
            except PluginError as err:
                context.abort_with_status(to_status(err))
            except Exception as exc:  # noqa: BLE001 - the last line of defence
                log.error("plugin call failed", method=fn.__name__, error=repr(exc),
                          stack=traceback.format_exc())
                context.abort_with_status(to_status(PluginError(
                    INTERNAL, "plugin failed in %s: %r" % (fn.__name__, exc))))
        return call
    return wrap
