#!/usr/bin/env bash
# deps.sh installs what hero_codescalers needs to build and test on a fresh
# Debian or Ubuntu machine: the Linux tools the plugins and the integration
# tests drive, protoc, and the Go modules. It is idempotent and quiet when
# everything is already there.
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
)

missing=()
for entry in "${PKGS[@]}"; do
  tool=${entry%%:*} pkg=${entry#*:}
  if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ] && ! [ -x "/sbin/$tool" ]; then
    missing+=("$pkg")
  fi
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
