#!/bin/bash
# PID 1 of one director ("node") of the cluster guest: run by node_boot in cluster-lib.sh as
#   ip netns exec <node> unshare --mount --uts --pid --fork --mount-proc bash node-init.sh <node> <dir>
# A node is a network namespace (its own IPVS table, addresses, abstract unix sockets) plus
# private mount, UTS and PID namespaces: heartbeat and Pacemaker read the node name from
# uname, keep state in /var/lib, pid files and IPC files in /run and /dev/shm, and find
# each other's daemons by pid; two nodes in one guest must not share any of that. <dir>
# holds the node's persistent state (it survives a power cycle, as a disk would).
set -euo pipefail
node=$1 dir=$2
hostname "$node"
mount --make-rprivate /
for m in etc/ha.d:ha.d var/lib/heartbeat:heartbeat var/lib/pacemaker:pacemaker \
         etc/corosync:corosync var/lib/corosync:corosync-state var/log:log; do
  mount --bind "$dir/${m#*:}" "/${m%%:*}"
done
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs -o mode=1777 shm /dev/shm
mkdir -p /run/lock/subsys /run/heartbeat /run/resource-agents /run/crm
chown hacluster:haclient /run/crm
# Orphans re-parent to this PID 1; bash reaps them while it waits.
while :; do sleep 3600 & wait $! || true; done
