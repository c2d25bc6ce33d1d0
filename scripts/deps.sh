#!/usr/bin/env bash
# deps.sh installs what hero_codescalers needs to build and test on a fresh
# Debian or Ubuntu machine: the Linux tools the plugins and the integration
# tests drive (Chromium for the dashboard's browser tests), protoc, Debian's
# Python gRPC for the Python example plugin, the Go modules, axe-core (npm)
# for the dashboard's accessibility check, and what the package is built
# and checked with (nfpm's Go module, lintian, systemd-analyze from the
# systemd package, fish for the completion's syntax). It is idempotent and
# quiet when everything is already there.
set -euo pipefail

# The tools, each with the Debian package that ships it.
PKGS=(
  btrfs:btrfs-progs
  setfacl:acl
  sshd:openssh-server
  ssh:openssh-client
  sudo:sudo
  busybox:busybox
  protoc:protobuf-compiler
  tmux:tmux
  dbus-daemon:dbus-daemon
  zsh:zsh
  useradd:passwd
  unshare:util-linux
  losetup:mount
  curl:curl
  make:make
  gcc:gcc
  chromium:chromium
  node:nodejs
  npm:npm
  fish:fish
  lintian:lintian
  systemd-analyze:systemd
  dpkg-deb:dpkg
)

# What the Python example plugin (examples/pysessions) is built and run
# with, each with a file of the Debian package that ships it: no pip.
FILES=(
  /usr/bin/python3:python3
  /usr/bin/grpc_python_plugin:protobuf-compiler-grpc
  /usr/include/google/protobuf/empty.proto:libprotobuf-dev
  /usr/lib/python3/dist-packages/grpc/__init__.py:python3-grpcio
  /usr/lib/python3/dist-packages/google/protobuf/__init__.py:python3-protobuf
  /usr/lib/python3/dist-packages/cryptography/__init__.py:python3-cryptography
)

missing=()
for entry in "${PKGS[@]}"; do
  tool=${entry%%:*} pkg=${entry#*:}
  if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ] && ! [ -x "/sbin/$tool" ]; then
    missing+=("$pkg")
  fi
done
for entry in "${FILES[@]}"; do
  file=${entry%%:*} pkg=${entry#*:}
  [ -e "$file" ] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=$PATH:/usr/local/go/bin; else
    echo "deps: Go 1.26 is required (https://go.dev/doc/install)" >&2; exit 1
  fi
fi
go mod download
# nfpm, which `make deb` runs, is a module of its own (tools/nfpm), so its
# dependencies never move the project's.
# Built once here, so `make deb` (and its integration test) only link it.
(cd tools/nfpm && go mod download && go build -o /dev/null github.com/goreleaser/nfpm/v2/cmd/nfpm)

# axe-core, injected into the dashboard's pages by the browser tests: from
# the npm registry into a cache dir, pinned, never from a CDN. The tests
# find it through HC_AXE_JS (default: this path).
AXE_VERSION=4.14.1
AXE_DIR=${HC_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hero_codescalers/axe-core-$AXE_VERSION}
if [ ! -s "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
  echo "deps: installing axe-core $AXE_VERSION into $AXE_DIR"
  mkdir -p "$AXE_DIR"
  npm install --prefix "$AXE_DIR" --no-audit --no-fund --silent --no-save "axe-core@$AXE_VERSION" >/dev/null
fi
