# Sourced by cluster-e2e.sh: the long-lived connection through the VIP (stream.mjs in the
# client's namespace, a streaming CGI on every real), the kernel's IPVS sync daemons
# started as an admin's boot would, and the Perl original in place of ldirectord-ts on a node.

# stream_cgi: /cgi-bin/stream on every real (busybox httpd runs CGIs from <home>/cgi-bin):
# a line naming the real every 100 ms, for longer than any scenario. The sleep is bash's
# own `read -t` on a FIFO nobody writes: no fork per line in the traced guest.
stream_cgi() {
  local n
  mkfifo -m 0666 /tmp/cl/never
  for n in dr1 dr2 nat1 nat2; do
    mkdir -p "/tmp/cl/www/$n/cgi-bin"
    cat > "/tmp/cl/www/$n/cgi-bin/stream" <<CGI
#!/bin/bash
printf 'Content-Type: text/plain\r\n\r\n'
exec 9<>/tmp/cl/never
for ((i = 0; i < 30000; i++)); do printf '$n %06d\n' "\$i"; read -t 0.1 -u 9; done
CGI
    chmod 0755 "/tmp/cl/www/$n/cgi-bin/stream"
  done
}

# stream_start <name>: one streaming connection to the DR service (:80) and one to the NAT
# service (:8080), recorded in <out>/stream-<name>.jsonl; 0 once both deliver.
stream_start() {
  local f=$OUT/stream-$1.jsonl
  ip netns exec client node "$CL_HERE/stream.mjs" "$VIP" 80 8080 > "$f" 2>&1 &
  echo $! > /tmp/cl/stream.pid
  until_true 120 sh -c "[ \$(grep -c '\"local\"' '$f') = 2 ]"
}
stream_stop() { [ ! -f /tmp/cl/stream.pid ] || kill "$(cat /tmp/cl/stream.pid)" 2>/dev/null; rm -f /tmp/cl/stream.pid; }
# stream_ports <name>: the client's ports of the two connections
stream_ports() { grep -o '"local":[0-9]*' "$OUT/stream-$1.jsonl" | cut -d: -f2; }
# stream_synced <lbN> <name>: the node's connection table holds both connections
stream_synced() {
  local p list; list=$(ip netns exec "$1" ipvsadm -L -c -n 2>/dev/null)
  for p in $(stream_ports "$2"); do grep -q "ESTABLISHED 10.9.5.2:$p " <<<"$list" || return 1; done
}
# stream_over <name> <epoch ms>: each connection either delivered again after a stall that
# ended after <epoch ms>, or failed
stream_over() {
  local port
  for port in 80 8080; do
    awk -v p="\"port\":$port," -v t0="$2" 'index($0, p) == 2 && /"(stall|e)":/ {
      match($0, /"t":[0-9]+/); if (substr($0, RSTART + 4, RLENGTH - 4) + 0 > t0) found = 1 }
      END { exit !found }' "$OUT/stream-$1.jsonl" || return 1
  done
}
now_ms() { date +%s%3N; }

# sync_boot <lbN> <role>...: the IPVS sync daemons an admin starts at the director's boot
# (Debian: /etc/default/ipvsadm), in the node's network namespace
sync_boot() {
  local n=$1 role; shift
  for role in "$@"; do
    on "$n" ipvsadm --start-daemon "$role" --mcast-interface eth0 --syncid 1 || fail "$n-sync-$role"
  done
}

# as_original <lbN>: the node runs the Perl original where ldirectord-ts is installed: the
# file behind /usr/sbin/ldirectord (the link heartbeat's resource.d/ldirectord and the OCF
# agent run) is replaced in the node's own mount namespace, so every path stays the same.
as_original() {
  on "$1" mount --bind /usr/sbin/ldirectord.perl "$(readlink -f /usr/sbin/ldirectord)"
}
