#!/bin/bash
# Runs INSIDE the IPVS guest: first the real ipvsadm on the fake-vs-real command sequence
# (from bash: a process started under a resident node costs twice as much in the guest),
# then the node part (ipvs-e2e.mjs), which prints the JSON report.
#   bash test/e2e/guest/ipvs-e2e.sh <build dir holding lib/ and steps/>
# steps/<i>.args holds the arguments of step i, NUL-separated; steps/<i>.in its stdin.
set -euo pipefail
build=$1
in=$build/steps
out=$(mktemp -d /tmp/ipvsadm-steps.XXXXXX)
n=$(cat "$in/count")
ipvsadm -C   # loads ip_vs
ip link set lo up   # for the sync-daemon steps
for ((i = 0; i < n; i++)); do
  mapfile -d '' -t args < "$in/$i.args"
  rc=0
  ipvsadm "${args[@]}" < "$in/$i.in" > "$out/$i.out" 2> "$out/$i.err" || rc=$?
  echo "$rc" > "$out/$i.rc"
done
exec node test/e2e/guest/ipvs-e2e.mjs "$build" "$out"
