#!/usr/bin/env bash
# create_users.sh COUNT PREFIX KEYFILE TOKENFILE: the floor of issue 5's
# benchmark. It creates COUNT users named PREFIX0000.. one after another with
# the same tools, for the same steps, as hero_codescalers' user.create (the
# layout of DESIGN.md §3), and nothing more: no journal, no checks, no undo.
# Needs root, a btrfs /home with quotas on, the group codescalers and the
# account driver. With STEPS_OUT set it writes there, per step of
# user.create, the microseconds the step's commands took in all. The
# integration benchmark runs it inside its sandbox;
# never run it on a machine whose /etc and /home matter.
set -euo pipefail
count=$1 prefix=$2
key=$(<"$3")
token=$(<"$4")
home_root=${HOME_ROOT:-/home}
host=$(hostname)
umask 022

# spent sums, in microseconds, the time of each step (as user.create names
# them), for the per-step table: lap STEP adds the time since the last lap.
declare -A spent=()
lap() {
  local now=${EPOCHREALTIME/./}
  spent[$1]=$((${spent[$1]:-0} + now - t))
  t=$now
}

for ((i = 0; i < count; i++)); do
  printf -v u '%s%04d' "$prefix" "$i"
  h=$home_root/$u
  t=${EPOCHREALTIME/./}

  useradd -p '*' -U -G codescalers -M -d "$h" -s /bin/bash -- "$u"
  lap account
  btrfs -q subvolume create -- "$h"
  btrfs qgroup limit 1G "$h"
  chmod 0755 "$h"
  lap volume

  mkdir -m 0755 "$h/hero" "$h/hero/var" "$h/hero/var/sockets"
  mkdir -m 0700 "$h/.ssh" "$h/hero/cfg"
  lap layout
  setfacl -m u:driver:r-x -m d:u:driver:rwx "$h/hero/var/sockets"
  lap acl

  umask 077
  printf '%s\n' "$key" >"$h/.ssh/authorized_keys"
  umask 022
  ssh-keygen -q -t ed25519 -N '' -C "$u@$host" -f "$h/.ssh/id_ed25519"
  lap keys
  umask 077
  printf '# Written by hero_codescalers for %s. Keep this file 0600.\n[forge]\ntoken = "%s"\n' "$u" "$token" >"$h/hero/cfg/hero_cfg.toml"
  umask 022
  lap config

  chown -R "$u:$u" "$h"
  lap layout # the owners: user.create sets them as it makes each path
done

if [[ -n ${STEPS_OUT:-} ]]; then
  for step in "${!spent[@]}"; do
    printf '%s %d\n' "$step" "${spent[$step]}"
  done >"$STEPS_OUT"
fi
