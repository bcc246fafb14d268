#!/bin/bash
# Runs INSIDE the IPVS guest (test/e2e/vm/ipvs-vm.sh) for test/cluster/cluster.test.ts:
# installs ldirectord-ts as the system's ldirectord from what scripts/install-system.sh
# staged on the host (--destdir=<stage>): its program directory is mounted, its links and
# files are copied (/usr/sbin/ldirectord, to which heartbeat's resource.d/ldirectord
# already points; the Perl original moves to /usr/sbin/ldirectord.perl as the script does;
# the guest's root is a throwaway overlay). Then it builds the two-director network (cluster-lib.sh), then runs the
# heartbeat scenario (hb-scenario.sh) and the Pacemaker one (pcmk-scenario.sh) with the
# client's requests (client.mjs) running throughout, then the failovers with a long-lived
# connection (failover-scenario.sh, stream-lib.sh). Everything the test asserts is
# written to <out dir>: events.jsonl, client.jsonl, stream-*.jsonl and text files.
#   bash test/cluster/guest/cluster-e2e.sh <out dir> <stage dir> [all|<scenario>[,<scenario>...]]
# scenarios: order (sync-order-scenario.sh), hb, pm, fo:<hb|pm>:<ours|orig>:<sync|nosync>
# (fo_scenario's arguments)
set -uo pipefail
OUT=$(realpath -m "$1"); STAGE=$(realpath "$2"); which=${3:-all}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cluster-lib.sh"
. "$here/hb-scenario.sh"
. "$here/pcmk-scenario.sh"
. "$here/stream-lib.sh"
. "$here/failover-scenario.sh"
. "$here/sync-order-scenario.sh"
mkdir -p /tmp/cl
rm -rf "$OUT"; mkdir -p "$OUT"
ev install
install_staged() {
  mkdir -p /usr/lib/ldirectord-ts
  mount --bind "$STAGE/usr/lib/ldirectord-ts" /usr/lib/ldirectord-ts
  [ -L /usr/sbin/ldirectord ] || mv /usr/sbin/ldirectord /usr/sbin/ldirectord.perl
  local f
  (cd "$STAGE" && find . -path ./usr/lib/ldirectord-ts -prune -o ! -type d -print) | while read -r f; do
    mkdir -p "/$(dirname "$f")"
    cp -a --remove-destination "$STAGE/$f" "/$f"
  done
  readlink -f /etc/ha.d/resource.d/ldirectord
  /usr/sbin/ldirectord --version
}
install_staged > "$OUT/install.txt" 2>&1 || { fail install; exit 1; }
ev installed
# negotiatetimeout=30 (the Perl original's default) for the Perl original's sake: its http
# check compiles LWP's protocol module on first use, under the check's alarm. In this
# guest that takes seconds; an alarm that fires during it leaves the module unloadable,
# and every later http check of that daemon fails ("501 Attempt to reload
# LWP/Protocol/http.pm aborted") until it restarts. No real fails in these scenarios, so
# the timeout changes no figure.
cat > "$OUT/ldirectord.cf" <<CF
checktimeout=2
negotiatetimeout=30
checkinterval=2
quiescent=no
logfile="/var/log/ldirectord.log"
virtual=$VIP:80
	real=10.9.0.21:80 gate
	real=10.9.0.22:80 gate
	service=http
	request="index.html"
	receive="dr"
	scheduler=rr
	protocol=tcp
	checktype=negotiate
virtual=$VIP:8080
	real=10.9.0.31:80 masq
	real=10.9.0.32:80 masq
	service=http
	request="index.html"
	receive="nat"
	scheduler=rr
	protocol=tcp
	checktype=negotiate
CF
{ printf 'syncdaemon = both\nsyncinterface = eth0\nsyncid = 1\n'; cat "$OUT/ldirectord.cf"; } > "$OUT/ldirectord-sync.cf"
net_up
stream_cgi
ip netns exec client node "$here/client.mjs" "$VIP" 200 80 8080 > "$OUT/client.jsonl" 2>&1 &
client=$!
ev net-up
rc=0
# after_scenario <prefix>: the nodes' logs into the report, every node powered off (also
# after a failed step, so that the next scenario starts from nothing)
after_scenario() {
  local n f
  for n in lb0 lb1; do
    for f in ha-log ldirectord.log pacemaker/pacemaker.log cluster/corosync.log; do
      [ ! -f "$NODES_DIR/$n/log/$f" ] || cp "$NODES_DIR/$n/log/$f" "$OUT/$1-$n-${f##*/}.txt"
    done
    [ ! -f "/tmp/cl/$n.pid" ] || node_power_off "$n"
    ip netns del "$n" 2>/dev/null || true
  done
  stream_stop
  ev "$1:done"
}
[ "$which" != all ] || which=order,hb,pm,fo:pm:ours:sync,fo:pm:orig:sync,fo:hb:ours:sync,fo:hb:orig:sync,fo:pm:orig:nosync,fo:hb:orig:nosync
for sc in ${which//,/ }; do
  case $sc in
    order) order_scenario || rc=1; after_scenario order ;;
    hb) hb_scenario || rc=1; after_scenario hb ;;
    pm) pcmk_scenario || rc=1; after_scenario pm ;;
    fo:*) IFS=: read -r _ m i s <<<"$sc"; fo_scenario "$m" "$i" "$s" || rc=1; after_scenario "fo-$m-$i-$s" ;;
    *) fail "unknown scenario $sc"; rc=1 ;;
  esac
done
kill "$client"
ev end
exit $rc
