#!/usr/bin/env bash
# The IPVS guest for test/e2e (the machines' own kernel has no IPVS): the host packages the
# guest uses (ipvsadm, iproute2, kmod, busybox-static, ...), the user-mode-linux kernel
# (downloaded from the Debian registry and unpacked into the cache, never installed), its
# trimmed modules; then one boot to prove that the guest starts and ip_vs loads.
# The cache is ${IVM_CACHE:-~/.cache/ipvs-vm}; later runs only check that it is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
test/e2e/vm/ipvs-vm.sh --build-only
test/e2e/vm/ipvs-vm.sh -C none -w / -- sh -c 'modprobe ip_vs && ipvsadm -A -t 192.0.2.1:80 -s rr && ipvsadm -S -n' \
  | grep -qx -- '-A -t 192.0.2.1:80 -s rr' || { echo "20-ipvs-vm: the IPVS guest does not work" >&2; exit 1; }
echo "20-ipvs-vm: IPVS guest ready"
