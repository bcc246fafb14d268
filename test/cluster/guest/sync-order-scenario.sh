# Sourced by cluster-e2e.sh: why ldirectord must start before the VIP when connections are
# synced (failover-scenario.sh), shown on the kernel alone, without a cluster manager:
# lb0 directs both services with the master sync daemon, lb1 runs the backup one and
# receives the client's two streams; lb0 loses power; lb1 takes the VIP but has no virtual
# service yet (as when IPaddr2 has started and ldirectord has not). The streams' next
# packets reach lb1's own TCP stack, which resets them, although lb1's connection table
# holds both.
order_scenario() {
  local p=order i t_off
  for i in 0 1; do node_net lb$i $i; done
  ip -n lb0 addr add "$VIP/24" dev eth0
  ip netns exec lb0 ipvsadm -R < <(table_of "$OUT/ldirectord.cf") || fail order-table
  ip netns exec lb0 ipvsadm --start-daemon master --mcast-interface eth0 --syncid 1 || fail order-master
  ip netns exec lb1 ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 1 || fail order-backup
  ev order:lb0-directs
  stream_start $p || { fail order-stream; return 1; }
  until_true 60 stream_synced lb1 $p || fail order-synced
  ip netns exec lb1 ipvsadm -L -c -n | grep ESTABLISHED | save order-conns-lb1-before
  ev order:power-off
  t_off=$(now_ms)
  ip netns del lb0
  ip -n lb1 addr add "$VIP/24" dev eth0
  ip netns exec lb1 busybox arping -q -U -c 2 -I eth0 "$VIP" || true
  ev order:lb1-vip-without-service
  until_true 120 stream_over $p "$t_off" || fail order-stream-over
  ev order:stream-over
  ip netns exec lb1 ipvsadm -L -c -n | grep ESTABLISHED | save order-conns-lb1-after
  stream_stop
  ip netns del lb1
}
# table_of <ldirectord.cf>: its virtual services and reals as `ipvsadm -R` input
table_of() {
  awk -v vip="$VIP" '
    /^virtual=/ { split($0, a, "="); v = a[2]; print "-A -t " v " -s rr" }
    /^[ \t]+real=/ { split($1, a, "="); m = ($2 == "gate") ? "-g" : "-m"; print "-a -t " v " -r " a[2] " " m " -w 1" }' "$1"
}
