"""The plugin's entry: `pysessions describe` prints the manifest; with no
argument it serves, as the host starts it."""

import json
import os
import sys

# The generated stubs sit beside the package inside the zipapp (build.sh).
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "stubs"))

USAGE = ("usage: pysessions [describe]\n\nThis file is a hero_codescalers plugin; the host starts it.\n"
         "\"describe\" prints its manifest.\n")


def main():
    args = sys.argv[1:]
    if args:
        sys.exit(_command(args))
    sys.exit(_serve())


def _command(args):
    from . import service
    if args != ["describe"]:
        sys.stderr.write(USAGE)
        return 2
    sys.stdout.write(json.dumps(service.manifest(), indent=2) + "\n")
    return 0


def _serve():
    from . import goplugin, service
    from .log import Logger
    from .policy import Guard

    if not goplugin.cookie_ok():
        return 1
    log = Logger(service.NAME)
    guard = Guard("/etc")
    if guard.err is not None:
        log.error("refusing every call: the policy cannot be used", error=str(guard.err))
    else:
        p = guard.policy
        log.info("policy", source=p.source, marker_group=p.marker_group, uid_min=p.uid_min, uid_max=p.uid_max)

    def register(server):
        service.sessions_pb2_grpc.add_SessionsServicer_to_server(service.Sessions(guard, log), server)
        service.identity_pb2_grpc.add_IdentityServicer_to_server(service.Identity(guard, log), server)

    code = goplugin.serve(register, log)
    sys.stderr.flush()
    # No interpreter shutdown: it would join the gRPC worker threads, and a
    # call cut at the end of the grace could hold one.
    os._exit(code)
