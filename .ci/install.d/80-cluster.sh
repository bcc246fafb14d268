#!/usr/bin/env bash
# test/cluster/: the real cluster managers, run by hand inside the IPVS guest (two network
# namespaces = two directors): heartbeat 3 (v1 haresources), Corosync 3 + Pacemaker 2 and
# its command-line tools (crm_attribute, crm_resource, crm_mon). resource-agents (IPaddr2,
# ocf:heartbeat:ldirectord) comes with 10-original-ldirectord.sh. Installed without their
# services being started (policy-rc.d): the test starts its own instances in the guest.
set -euo pipefail
pkgs=(heartbeat corosync pacemaker pacemaker-cli-utils resource-agents)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
