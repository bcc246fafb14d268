# Sourced by cluster-e2e.sh, INSIDE the IPVS guest: the network of two directors and the
# helpers that boot, enter and power off a director ("node").
#
#   one link (bridge br0), directors and reals in 10.9.0.0/24, the client in 10.9.5.0/24:
#     lb0 10.9.0.10, lb1 10.9.0.11   the cluster moves VIP 10.9.0.100 (IPaddr2) and
#                                    ldirectord between them
#     dr1 10.9.0.21, dr2 10.9.0.22   LVS-DR reals of VIP:80 (VIP on lo, arp_ignore)
#     nat1 10.9.0.31, nat2 10.9.0.32 LVS-NAT reals of VIP:8080 (port 80), whose default
#                                    route is the VIP: replies go back through the director
#                                    holding it, wherever it moved
#     client 10.9.5.2                another subnet on the same link, so that the NAT reals
#                                    do not answer it directly
# One IPaddr2 resource for both methods: the unchanged agent takes seconds per run in the
# guest's one slow CPU, and a failover is as slow as its slowest step.
# These addresses exist only inside the guest.
VIP=10.9.0.100
NODES_DIR=/tmp/cl/nodes
CL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

veth_to() {  # <netns> <host-side name>: eth0 of the netns, on the link
  ip link add "$2" type veth peer name eth0 netns "$1"
  ip link set "$2" master br0 up
  ip -n "$1" link set lo up
  ip -n "$1" link set eth0 up
}

net_up() {
  modprobe ip_vs; modprobe veth; modprobe bridge
  ip link add br0 type bridge forward_delay 0
  ip link set br0 up
  ip netns add client
  veth_to client v-client
  ip -n client addr add 10.9.5.2/24 dev eth0
  ip -n client route add 10.9.0.0/24 dev eth0
  local i
  for i in 1 2; do
    ip netns add "dr$i"
    veth_to "dr$i" "v-dr$i"
    ip -n "dr$i" addr add "10.9.0.2$i/24" dev eth0
    ip -n "dr$i" addr add "$VIP/32" dev lo
    ip -n "dr$i" route add 10.9.5.0/24 dev eth0
    ip netns exec "dr$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
    ip netns add "nat$i"
    veth_to "nat$i" "v-nat$i"
    ip -n "nat$i" addr add "10.9.0.3$i/24" dev eth0
    ip -n "nat$i" route add default via "$VIP"
  done
  local n
  for n in dr1 dr2 nat1 nat2; do
    mkdir -p "/tmp/cl/www/$n"
    echo "$n" > "/tmp/cl/www/$n/index.html"
    ip netns exec "$n" busybox httpd -p 80 -h "/tmp/cl/www/$n"
  done
}

# node_net <lbN> <index>: the director's interface, in a fresh netns (an empty IPVS table).
node_net() {
  local n=$1 i=$2
  ip netns add "$n"
  veth_to "$n" "v-$n"
  ip -n "$n" addr add "10.9.0.1$i/24" dev eth0
  ip -n "$n" route add 10.9.5.0/24 dev eth0
  ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
}

# node_state <lbN>: the node's "disk": /etc/ha.d (the installed resource.d links and the
# agents' helpers, plus the files the scenario writes), /var/lib/{heartbeat,pacemaker,
# corosync}, /etc/corosync and /var/log, each a copy of the guest's.
node_state() {
  local d=$NODES_DIR/$1
  rm -rf "$d"; mkdir -p "$d"
  cp -a /etc/ha.d "$d/ha.d"
  cp -a /var/lib/heartbeat "$d/heartbeat"
  cp -a /var/lib/pacemaker "$d/pacemaker"
  cp -a /etc/corosync "$d/corosync"
  mkdir -p "$d/corosync-state" "$d/log/pacemaker" "$d/log/cluster"
  chown hacluster:haclient "$d/log/pacemaker"
  rm -f "$d/heartbeat/hb_uuid" "$d/heartbeat/hostcache" "$d/heartbeat/delhostcache"
}

# node_boot <lbN>: PID 1 of the node (node-init.sh); its pid in /tmp/cl/<n>.pid.
node_boot() {
  local n=$1 k child
  ip netns exec "$n" unshare --mount --uts --pid --fork --mount-proc \
    bash "$CL_HERE/node-init.sh" "$n" "$NODES_DIR/$n" </dev/null >"/tmp/cl/$n.init.log" 2>&1 &
  local unshare_pid=$!
  for k in $(seq 300); do
    child=$(pgrep -P "$unshare_pid" -x bash || true)
    if [ -n "$child" ] && [ "$(nsenter -t "$child" -u hostname 2>/dev/null)" = "$n" ] \
       && [ -d "$NODES_DIR/$n/log" ] && nsenter -t "$child" -m test -d /run/crm; then
      echo "$child" > "/tmp/cl/$n.pid"; return 0
    fi
    sleep 0.1
  done
  echo "node_boot $n: the node did not come up" >&2; cat "/tmp/cl/$n.init.log" >&2; return 1
}

# on <lbN> <command...>: runs a command inside the node (all its namespaces).
on() { local n=$1; shift; nsenter -t "$(cat "/tmp/cl/$n.pid")" -m -u -p -n -- "$@"; }

# node_power_off <lbN>: every process of the node dies at once (its PID 1 is killed) and
# its network namespace goes (link down, address and IPVS table gone), as a director that
# loses power.
node_power_off() {
  local n=$1 pid k; pid=$(cat "/tmp/cl/$n.pid")
  kill -KILL "$pid"
  for k in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ip netns del "$n"
  rm -f "/tmp/cl/$n.pid"
}

# ---- the report: events.jsonl in the output dir ({"ev": name, "t": epoch ms} a line) and
# text files beside it (no node process per event: each costs seconds in the guest)
ev() {
  printf '{"ev":"%s","t":%s}\n' "$1" "$(date +%s%3N)" >> "$OUT/events.jsonl"
  [ -z "${CL_VERBOSE:-}" ] || echo "[$(date +%T.%3N)] $1" >&2
}
save() { cat > "$OUT/$1.txt"; }   # save <name> < text
fail() { ev "fail:$1"; echo "FAIL: $1" >&2; }

# until_true <seconds> <command...>: polls every 0.3 s; 1 if the time ran out.
until_true() {
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.3
  done
}

table() { ip netns exec "$1" ipvsadm -S -n 2>/dev/null | sort; }
has_vip() { ip -n "$1" -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }
# the node directs: the VIP is there and both virtual services have their two reals
directs() { has_vip "$1" && [ "$(table "$1" | grep -c '^-a ')" = 4 ]; }
# the node holds nothing: no VIP, no virtual service, no ldirectord process
idle() {
  ! has_vip "$1" && [ -z "$(table "$1")" ] && ! on "$1" pgrep -f 'ldirectord ' >/dev/null
}
ldpid() { on "$1" pgrep -f 'ldirectord .*ldirectord.cf start' | head -1; }
