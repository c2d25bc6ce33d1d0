#!/bin/sh
# gen.sh regenerates the Go code of every .proto under sdk/proto. It needs
# protoc (Debian's protobuf-compiler) and the pinned generators:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
# Released protos only ever grow: add fields and RPCs, never renumber; a
# change that would break one is a new version beside it (sshkeys/v2), which
# the host runs alongside the old one for a release (sdk/concern).
set -eu
cd "$(dirname "$0")"
PATH="$(go env GOPATH)/bin:$PATH"
export PATH
want_go="protoc-gen-go v1.36.12"
want_grpc="protoc-gen-go-grpc 1.5.1"
have_go="$(protoc-gen-go --version)"
have_grpc="$(protoc-gen-go-grpc --version)"
[ "$have_go" = "$want_go" ] || { echo "gen.sh: want $want_go, have $have_go" >&2; exit 1; }
[ "$have_grpc" = "$want_grpc" ] || { echo "gen.sh: want $want_grpc, have $have_grpc" >&2; exit 1; }
for f in */v*/*.proto; do
	protoc -I . \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		"$f"
done
