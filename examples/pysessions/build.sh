#!/bin/sh
# build.sh OUTDIR builds the pysessions plugin into OUTDIR/pysessions, one
# executable file (a Python zipapp: the plugin's code and its generated
# gRPC stubs), and writes its manifest beside it, OUTDIR/pysessions.manifest.json,
# as `make build` does for the Go plugins.
#
# One file matters: the host pins a plugin by the sha256 of the file it
# executes (go-plugin's SecureConfig as root, sudo's Digest_Spec for the
# driver), so every line of code the plugin runs must be in that file; and
# sudo and the conformance kit's sandbox exec the plugin through a file
# descriptor, so the interpreter sees /dev/fd/N, not a directory to import
# siblings from.
#
# Needs Debian's protobuf-compiler, libprotobuf-dev (the well-known .proto
# files), protobuf-compiler-grpc (grpc_python_plugin), python3-grpcio,
# python3-protobuf and python3-cryptography; scripts/deps.sh installs them.
# No pip, no network.
set -eu

# The contract this plugin speaks: change this one line (and the servicer's
# messages, if they changed) to build against another version of it.
SESSIONS_API=v2

VERSION=${PYSESSIONS_VERSION:-0.1.0}
PYTHON=/usr/bin/python3

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

for tool in protoc grpc_python_plugin "$PYTHON"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: $tool is missing (bash scripts/deps.sh)" >&2; exit 1; }
done
[ -f /usr/include/google/protobuf/empty.proto ] ||
	{ echo "build.sh: /usr/include/google/protobuf/empty.proto is missing (apt-get install libprotobuf-dev)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir "$stage/stubs"

# The sdk's contracts (sessions, identity, and common for typed errors and
# the lifecycle's user and Forget, which sessions v2 imports) and
# the wire protocols go-plugin and gRPC need (proto/ here), as Python
# modules under stubs/, which the plugin puts on its import path.
protoc -I "$repo/sdk/proto" -I "$here/proto" -I /usr/include \
	--python_out="$stage/stubs" \
	--grpc_python_out="$stage/stubs" \
	--plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
	"sessions/$SESSIONS_API/sessions.proto" \
	identity/v1/identity.proto \
	common/v1/common.proto \
	common/v1/lifecycle.proto \
	plugin/grpc_controller.proto \
	plugin/grpc_stdio.proto \
	health/v1/health.proto \
	rpcstatus/status.proto

cp -R "$here/pysessions" "$stage/pysessions"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
cat > "$stage/pysessions/_build.py" <<EOF
"""Written by build.sh: what this build of the plugin is."""
VERSION = "$VERSION"
SESSIONS_API = "$SESSIONS_API"
EOF
printf 'from pysessions.main import main\nmain()\n' > "$stage/__main__.py"

# Compiled once here (legacy .pyc beside each .py, the layout zipimport
# reads), so no start of the plugin compiles its sources again.
"$PYTHON" -m compileall -q -b "$stage" >/dev/null

# -I: isolated mode. A root plugin takes no PYTHONPATH, PYTHONHOME or user
# site-packages from whoever started it.
"$PYTHON" -m zipapp "$stage" -p "$PYTHON -I" -o "$out/pysessions.tmp"
chmod 0755 "$out/pysessions.tmp"
mv -f "$out/pysessions.tmp" "$out/pysessions"
"$out/pysessions" describe > "$out/pysessions.manifest.json.tmp"
mv -f "$out/pysessions.manifest.json.tmp" "$out/pysessions.manifest.json"
