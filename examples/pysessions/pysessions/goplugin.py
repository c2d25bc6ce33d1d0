"""The plugin side of hashicorp/go-plugin's protocol, over gRPC.

What go-plugin's Go Serve does, and what its host (and the conformance
kit) expect of a plugin in any language:

  - the magic cookie: the host sets HERO_CODESCALERS_PLUGIN to the sdk's
    value (sdk.Handshake); without it the binary was run by hand, and says
    so on stderr;
  - the app protocol version: 1 (sdk.Handshake.ProtocolVersion), checked
    against the PLUGIN_PROTOCOL_VERSIONS the host offers;
  - a Unix socket in PLUGIN_UNIX_SOCKET_DIR (or the temporary directory),
    made group-owned and group-writable (0660) when the host asks for a
    group in PLUGIN_UNIX_SOCKET_GROUP (the unprivileged host reaching a
    root plugin through sudo);
  - AutoMTLS: when the host passes its certificate in PLUGIN_CLIENT_CERT,
    the plugin makes its own self-signed one (mtls), serves TLS that
    requires and verifies the host's, and sends its certificate back in
    the handshake line;
  - the handshake line, the only thing ever written to stdout:
    CORE-PROTOCOL|APP-PROTOCOL|unix|ADDRESS|grpc|CERT, CERT being the raw
    DER in standard base64 without padding (go-plugin's RawStdEncoding);
  - the services go-plugin's client calls besides the plugin's own: gRPC
    health (Ping checks service "plugin"), GRPCController.Shutdown (the
    host's Close and Kill) and GRPCStdio.StreamStdio (the stream of the
    plugin's stdout and stderr; this plugin writes neither there: its log
    is stderr itself, and its stdout is closed after the handshake).
    go-plugin's GRPCBroker serves bidirectional plugins only, which the
    sdk's contracts never are, and is left out: the host's client tolerates
    its absence.

It also dies with its host (PR_SET_PDEATHSIG and a watch on the parent
pid, as the Go sdk's watchdog) and stops on SIGTERM, letting in-flight
calls finish for up to STOP_GRACE seconds.
"""

import base64
import concurrent.futures
import ctypes
import grp
import os
import signal
import sys
import tempfile
import threading

import grpc

from health.v1 import health_pb2, health_pb2_grpc
from plugin import grpc_controller_pb2, grpc_controller_pb2_grpc, grpc_stdio_pb2_grpc

from . import mtls

CORE_PROTOCOL_VERSION = 1
APP_PROTOCOL_VERSION = 1  # sdk.Handshake.ProtocolVersion
MAGIC_COOKIE_KEY = "HERO_CODESCALERS_PLUGIN"
MAGIC_COOKIE_VALUE = "5e1b3c0a-hero-codescalers-plugin"
STOP_GRACE = 5.0
WATCH_INTERVAL = 0.2
_PR_SET_PDEATHSIG = 1


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service not in ("", "plugin"):
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service %r" % request.service)
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, stop):
        self.stop = stop

    def Shutdown(self, request, context):
        self.stop.set("shutdown requested by the host")
        return grpc_controller_pb2.Empty()


class Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    """Holds the stream open until the host hangs up or the plugin stops,
    sending nothing: nothing of this plugin goes to stdout, and its stderr
    reaches the host directly."""

    def __init__(self, stop):
        self.stop = stop

    def StreamStdio(self, request, context):
        done = threading.Event()
        context.add_callback(done.set)
        while not done.wait(WATCH_INTERVAL) and not self.stop.is_set():
            pass
        return
        yield  # a server-streaming method is a generator


class Stop:
    """Why and when to stop; the first reason wins."""

    def __init__(self):
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason):
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self):
        return self._event.is_set()

    def wait(self, timeout):
        return self._event.wait(timeout)


def cookie_ok():
    """Whether a host started the plugin; says so on stderr when not."""
    if os.environ.get(MAGIC_COOKIE_KEY) == MAGIC_COOKIE_VALUE:
        return True
    os.write(2, b"This binary is a plugin. These are not meant to be executed directly.\n"
                b"Please execute the program that consumes these plugins, which will\n"
                b"load any plugins automatically\n")
    return False


def serve(register, log, stdout_fd=1):
    """Serves until SIGTERM, the host's Shutdown or the host's death;
    returns the exit code. register(server) adds the plugin's services."""
    if not cookie_ok():
        return 1
    offered = [v.strip() for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",") if v.strip()]
    if offered and str(APP_PROTOCOL_VERSION) not in offered:
        # As go-plugin: answer with our version and let the host say why
        # it cannot use it.
        log.warn("host offers other protocol versions", offered=offered, ours=APP_PROTOCOL_VERSION)
    stop = Stop()
    ppid = os.getppid()
    _arm_pdeathsig(log)
    signal.signal(signal.SIGTERM, lambda *_: stop.set("SIGTERM"))
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="grpc"))
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(stop), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(Stdio(stop), server)
    register(server)
    path, cert = _listen(server)
    line = "%d|%d|unix|%s|grpc|%s\n" % (CORE_PROTOCOL_VERSION, APP_PROTOCOL_VERSION, path, cert)
    _handshake(stdout_fd, line)
    log.debug("plugin address", network="unix", address=path, mtls=bool(cert))
    while not stop.wait(WATCH_INTERVAL):
        if os.getppid() != ppid:
            log.info("parent exited", parent=ppid, now=os.getppid())
            stop.set("parent exited")
    log.info("plugin stopping", reason=stop.reason)
    if not server.stop(STOP_GRACE).wait(STOP_GRACE + 2):
        log.error("plugin did not stop in time, exiting")
        return 1
    _remove(path)
    log.info("plugin stopped")
    return 0


def _listen(server):
    """Binds the socket, with TLS when the host sent its certificate;
    returns its path and the certificate for the handshake line ("")."""
    sock_dir = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.gettempdir()
    # A fresh name, as go-plugin's CreateTemp(dir, "plugin"): made and
    # removed, so the socket can take it.
    fd, path = tempfile.mkstemp(prefix="plugin", dir=sock_dir)
    os.close(fd)
    os.remove(path)
    client_pem = os.environ.get("PLUGIN_CLIENT_CERT", "")
    old = os.umask(0o077)  # only this account reaches the socket until told otherwise
    try:
        if client_pem:
            key_pem, cert_pem, der = mtls.server_cert()
            creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=client_pem.encode(),
                                                require_client_auth=True)
            port = server.add_secure_port("unix:" + path, creds)
            cert = base64.b64encode(der).decode().rstrip("=")
        else:
            port = server.add_insecure_port("unix:" + path)
            cert = ""
        if port == 0:
            raise OSError("cannot listen on unix:%s" % path)
        server.start()
    finally:
        os.umask(old)
    group = os.environ.get("PLUGIN_UNIX_SOCKET_GROUP", "")
    if group:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        os.chown(path, -1, gid)
        os.chmod(path, 0o660)
    else:
        os.chmod(path, 0o700)
    return path, cert


def _handshake(fd, line):
    """Writes the handshake line, then points fd 1 at stderr, so anything
    that writes to stdout later (a stray print, a child given fd 1) lands
    in the log and the host's stdout pipe closes."""
    data = line.encode()
    while data:
        data = data[os.write(fd, data):]
    os.dup2(2, fd)
    sys.stdout = sys.stderr


def _arm_pdeathsig(log):
    """Asks the kernel for SIGTERM when the parent exits. It covers the
    direct parent's thread only, so serve also watches getppid()."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as exc:
        log.warn("PR_SET_PDEATHSIG failed; relying on polling", error=str(exc))


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass
