#!/usr/bin/env bash
# Makes (once) a minimal Debian root for the package tests and prints its path:
# ~/.cache/ldirectord-ts/deb-roots/<suite> (LDIRECTORD_TS_CACHE overrides
# ~/.cache/ldirectord-ts). The tests never change it: they mount an overlay on it.
#
#   scripts/deb-root.sh bookworm|trixie
#
# The root comes from the Debian mirror this machine's apt is configured with. It holds
# what the tests use but do not test (ocf-tester from resource-agents, man, pgrep, xmllint)
# and, downloaded but not installed, Debian's ldirectord with its dependencies, so that
# the test installs the original as an admin would (apt-get install ldirectord) without
# going to the network again. A cached root is reused as long as it exists; delete it
# to make a fresh one.
set -euo pipefail

suite=${1:?usage: deb-root.sh SUITE}
case "$suite" in bookworm|trixie) ;; *) echo "deb-root: unsupported suite $suite" >&2; exit 2 ;; esac

cache=${LDIRECTORD_TS_CACHE:-$HOME/.cache/ldirectord-ts}/deb-roots
out=$cache/$suite
if [ -x "$out/usr/bin/apt-get" ]; then printf '%s\n' "$out"; exit 0; fi
mkdir -p "$cache"

# The first Debian archive URI that apt here is configured with (deb822 or one-line).
mirror_uri() {
  local f uri=
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
  fi
  printf '%s' "${uri:-http://deb.debian.org/debian}"
}
mirror=$(mirror_uri)
security=${mirror%/debian}/debian-security

tmp="$cache/.$suite.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
# --skip=cleanup/apt: keeps the package lists and the downloaded ldirectord .debs (the
# hook empties the cache of the bootstrap's own packages first).
mmdebstrap --quiet --variant=apt --skip=cleanup/apt \
  --include=resource-agents,libxml2-utils,procps,man-db,ca-certificates \
  --customize-hook='chroot "$1" apt-get clean' \
  --customize-hook='chroot "$1" apt-get install -y -qq --download-only --no-install-recommends ldirectord >/dev/null' \
  "$suite" "$tmp" \
  "deb $mirror $suite main" \
  "deb $security $suite-security main" >&2
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
printf '%s\n' "$out"
