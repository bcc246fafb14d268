#!/bin/bash
# Runs INSIDE the IPVS guest (test/e2e/vm/ipvs-vm.sh) for test/e2e/daemon.test.ts: builds
# the LVS-NAT network the daemon directs, then runs daemon-e2e.mjs, which drives the daemon
# and prints the JSON report.
#   bash test/e2e/guest/daemon-e2e.sh <build dir holding bin/ldirectord and dist/>
#
#   namespace "client"  10.200.0.2/24 --veth-- 10.200.0.1 (c0)  director (root namespace)
#   namespace "real1"   10.200.1.2/24 --veth-- 10.200.1.1 (r10)   VIP 10.200.100.1 on dummy vip0,
#   namespace "real2"   10.200.2.2/24 --veth-- 10.200.2.1 (r20)   net.ipv4.ip_forward=1
# The client and the reals route everything through the director, so the reals' replies pass
# back through it (LVS-NAT). These addresses exist only inside the guest.
set -euo pipefail
build=$1

modprobe ip_vs
modprobe veth
modprobe dummy
sysctl -qw net.ipv4.ip_forward=1
ip link set lo up

ip link add vip0 type dummy
ip link set vip0 up
ip addr add 10.200.100.1/32 dev vip0

ip netns add client
ip link add c0 type veth peer name c1 netns client
ip addr add 10.200.0.1/24 dev c0
ip link set c0 up
ip -n client addr add 10.200.0.2/24 dev c1
ip -n client link set c1 up
ip -n client link set lo up
ip -n client route add default via 10.200.0.1

for i in 1 2; do
  ip netns add "real$i"
  ip link add "r${i}0" type veth peer name "r${i}1" netns "real$i"
  ip addr add "10.200.$i.1/24" dev "r${i}0"
  ip link set "r${i}0" up
  ip -n "real$i" addr add "10.200.$i.2/24" dev "r${i}1"
  ip -n "real$i" link set "r${i}1" up
  ip -n "real$i" link set lo up
  ip -n "real$i" route add default via "10.200.$i.1"
done

# The tutorial config logs to syslog (its logfile="var/log/..." is a facility name):
# a syslog daemon on /dev/log keeps those lines for the report.
mkdir -p /tmp/e2e
busybox syslogd -n -O /tmp/e2e/syslog.log &

exec node test/e2e/guest/daemon-e2e.mjs "$build"
