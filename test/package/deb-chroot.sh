#!/usr/bin/env bash
# Runs a script as root inside a throw-away copy of a Debian root, isolated from the host:
#
#   test/package/deb-chroot.sh ROOT SCRIPT [FILE...]
#
# ROOT (made by scripts/deb-root.sh) is never written: a private mount namespace lays a
# writable overlay on it, on a tmpfs, with its own /proc (private pid namespace: every
# process the script leaves behind dies with it), /dev, /sys and /run. SCRIPT and the
# FILEs are copied to /root/pkg/ in the copy, and SCRIPT runs there with bash. The
# network is the host's (real servers on the host's loopback addresses are reachable).
set -euo pipefail

root=${1:?usage: deb-chroot.sh ROOT SCRIPT [FILE...]}
script=${2:?usage: deb-chroot.sh ROOT SCRIPT [FILE...]}
shift 2
[ -x "$root/usr/bin/apt-get" ] || { echo "deb-chroot: $root is not a Debian root" >&2; exit 2; }

root=$(cd "$root" && pwd -P)
files=("$script" "$@")
abs=()
for f in "${files[@]}"; do abs+=("$(cd "$(dirname "$f")" && pwd -P)/$(basename "$f")"); done

exec unshare --mount --pid --fork --propagation private -- bash -euo pipefail -c '
  lower=$1; shift
  w=$(mktemp -d /tmp/deb-chroot.XXXXXX)
  # The namespace goes away with this shell; the directory on the host does not.
  trap "rmdir \"$w\" 2>/dev/null || true" EXIT
  mount -t tmpfs -o size=3g,mode=0755 deb-chroot "$w"
  mkdir "$w/upper" "$w/work" "$w/root"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$w/upper,workdir=$w/work" "$w/root"
  r=$w/root
  mount -t proc proc "$r/proc"
  mount --rbind /dev "$r/dev"
  mount --rbind /sys "$r/sys"
  mount -t tmpfs -o mode=0755 run "$r/run"
  mount -t tmpfs -o mode=1777 tmp "$r/tmp"
  cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
  mkdir -p "$r/root/pkg"
  for f in "$@"; do cp -p "$f" "$r/root/pkg/"; done
  script=$(basename "$1")
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    chroot "$r" /bin/bash "/root/pkg/$script"
' deb-chroot "$root" "${abs[@]}"
