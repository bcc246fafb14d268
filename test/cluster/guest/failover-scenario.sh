# Sourced by cluster-e2e.sh: one failover with a long-lived connection through the VIP,
#   fo_scenario <hb|pm> <ours|orig> <sync|nosync>
# heartbeat or Pacemaker, ldirectord-ts or the Perl original (as_original) on both nodes,
# with or without the kernel's IPVS connection sync. The cluster starts the resources on
# lb0, the client opens its two streams (DR and NAT) through lb0, lb0 loses power, lb1 takes
# over, and the scenario waits until each stream either delivered again or failed.
#
# With sync, ldirectord starts BEFORE the VIP on the director that takes over. Since Linux
# 5.9 IPVS hooks into netfilter only while its namespace has a virtual service: a director
# that holds the VIP but no service yet hands the synced connections' packets to its own
# TCP stack, which resets them. The usual order (VIP, then ldirectord) leaves that window
# open for as long as ldirectord takes to build the table.
#
# Sync daemons: ldirectord-ts with `syncdaemon = both` starts both roles where it runs; the
# director that has never been active runs the backup role from its boot (sync_boot). The
# original manages no daemon: the admin's boot starts both roles on both directors.
fo_scenario() {
  local mgr=$1 impl=$2 sync=$3 p="fo-$1-$2-$3" n i cf=$OUT/ldirectord.cf order=vip-first
  local res="IPaddr2::$VIP/24/eth0 ldirectord::ldirectord.cf" t_off
  if [ "$sync" = sync ]; then
    order=ld-first res="ldirectord::ldirectord.cf IPaddr2::$VIP/24/eth0"
    [ "$impl" = orig ] || cf=$OUT/ldirectord-sync.cf
  fi
  for i in 0 1; do
    n=lb$i
    node_state $n
    if [ "$mgr" = hb ]; then hb_config $n 10.9.0.1$((1 - i)) "$res" "$cf"; else pcmk_config $n $order "$cf"; fi
    node_net $n $i; node_boot $n
    [ "$impl" = ours ] || as_original $n || fail "$p-$n-original"
  done
  on lb0 ldirectord --version 2>&1 | head -3 | save "$p-version"
  if [ "$sync" = sync ]; then
    if [ "$impl" = ours ]; then sync_boot lb1 backup; else sync_boot lb0 master backup; sync_boot lb1 master backup; fi
  fi
  ev "$p:boot"
  for n in lb0 lb1; do if [ "$mgr" = hb ]; then hb_start $n; else pcmk_start $n; fi; done
  until_true 300 directs lb0 || { fail "$p-start"; return 1; }
  ev "$p:lb0-directs"
  table lb0 | save "$p-table-lb0"
  stream_start "$p" || { fail "$p-stream"; return 1; }
  ev "$p:stream-up"
  [ "$sync" != sync ] || until_true 60 stream_synced lb1 "$p" || fail "$p-synced"
  ev "$p:synced"
  ip netns exec lb1 ipvsadm -L -c -n | grep -v _WAIT | save "$p-conns-lb1-before"
  ip netns exec lb0 ipvsadm -L --daemon | save "$p-daemons-lb0"

  ev "$p:power-off"
  t_off=$(now_ms)
  node_power_off lb0
  until_true 300 directs lb1 || { fail "$p-failover"; return 1; }
  ev "$p:lb1-directs-after-failure"
  table lb1 | save "$p-table-lb1-after-failure"
  # a stream delivers again (or fails) at its TCP's next retransmission after lb1 has the
  # VIP, which backs off exponentially while lb0 is dead
  until_true 400 stream_over "$p" "$t_off" || fail "$p-stream-over"
  ev "$p:stream-over"
  ip netns exec lb1 ipvsadm -L -c -n | grep -v _WAIT | save "$p-conns-lb1-after"
  ip netns exec lb1 ipvsadm -L --daemon | save "$p-daemons-lb1"
  stream_stop
}
