#!/bin/bash
# The Debian package's life on a director, run as root inside a throw-away Debian root
# (test/package/deb-chroot.sh; test/package/deb.test.ts). In /root/pkg: the .deb, the
# seed configuration seed-ldirectord.cf, fake-ipvsadm, fake-ipvsadm.mjs and the modules it
# imports, fake-ipvsadm-daemons.mjs and fake-ipvs-proc.mjs.
#
#  1. Debian's ldirectord is installed and configured (/etc/ha.d/ldirectord.cf), as on a
#     director today; then `apt-get install ./ldirectord-ts_*.deb` replaces it: the
#     configuration is byte-identical, `ldirectord -v`, `-t` and `man ldirectord` work.
#  2. The installed program directs: started by its init script, by heartbeat's
#     resource.d link, and by the unchanged OCF agent under ocf-tester. The kernel has no
#     IPVS here: the test suite's fake ipvsadm (run by the package's own node) takes
#     /usr/sbin/ipvsadm's place, and python3's http.server plays the real servers on
#     127.0.137.x.
#  3. apt-get remove, then purge: nothing of ours is left, the configuration still is;
#     Debian's ldirectord reinstalled from the archive works (it directs the same table).
#
# Lines "FIGURE <name> <value>" are the measurements; the last line is "PKGTEST PASSED".
set -euo pipefail

PKG=/root/pkg
CFG=/etc/ha.d/ldirectord.cf
DEB=$(ls "$PKG"/ldirectord-ts_*.deb)
VIP=127.0.137.1:80
RPORT=8137
LIB=/usr/lib/ldirectord-ts

fail() { printf "not ok - %s\n" "$*"; if [ -f /var/log/ldirectord.log ]; then echo "-- /var/log/ldirectord.log (end):"; tail -n 30 /var/log/ldirectord.log; fi; exit 1; }
ok() { printf 'ok - %s\n' "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
# The roots share the host's network and the test runs them at the same time: each
# release has its own real servers (the seed's 127.0.137.2-3 are moved for Debian 13).
case "$suite" in
  trixie) REALS=(127.0.137.12 127.0.137.13) ;;
  *) REALS=(127.0.137.2 127.0.137.3) ;;
esac
echo "== $suite ($(. /etc/os-release && echo "$PRETTY_NAME"))"

# A root is no booted system: services are started by this script, not by maintainer
# scripts (the usual policy-rc.d of chroots).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d

apt_get() { apt-get -y -qq -o Dpkg::Use-Pty=0 "$@" < /dev/null > /tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt-get $*"; }; }

# ---------------------------------------------------------------- real servers ----
mkdir -p /srv/www
echo 'Test Page' > /srv/www/index.html
real_pids=()
for ip in "${REALS[@]}"; do
  python3 -m http.server --bind "$ip" --directory /srv/www "$RPORT" > "/tmp/real-$ip.log" 2>&1 &
  real_pids+=($!)
done
for ip in "${REALS[@]}"; do
  for _ in $(seq 100); do
    python3 -c "import socket,sys; socket.create_connection(('$ip', $RPORT), 1)" 2>/dev/null && break
    sleep 0.1
  done
done
for pid in "${real_pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "real server $pid is up (address in use?)"; done

# ------------------------------------------------------------------- 1. replace ----
apt_get install --no-install-recommends --no-download ldirectord
head -n1 /usr/sbin/ldirectord | grep -q perl || fail "Debian's ldirectord is installed"
sed -e "s/127\.0\.137\.2:/${REALS[0]}:/; s/127\.0\.137\.3:/${REALS[1]}:/" "$PKG/seed-ldirectord.cf" > "$CFG"
chmod 0644 "$CFG"
cfg_sum=$(sha256sum "$CFG")
ok "Debian's ldirectord $(dpkg-query -W -f='${Version}' ldirectord) installed, $CFG written"

# Recommends (logrotate, iputils-ping) are left out: the root has no other packages at
# hand. (apt refuses --no-download with a local .deb; ipvsadm is installed already.)
t0=$(now_ms)
apt_get install --no-install-recommends "$DEB"
t1=$(now_ms)
echo "FIGURE install_ms $((t1 - t0))"
[ "$(dpkg-query -W -f='${db:Status-Status}' ldirectord-ts)" = installed ] || fail "ldirectord-ts installed"
state=$(dpkg-query -W -f='${db:Status-Status}' ldirectord 2>/dev/null || true)
[ "$state" = config-files ] || [ "$state" = not-installed ] || [ -z "$state" ] || fail "ldirectord removed (state $state)"
[ "$(dpkg-query -S /usr/sbin/ldirectord | cut -d: -f1)" = ldirectord-ts ] || fail "/usr/sbin/ldirectord is ours"
ok "apt-get install ./$(basename "$DEB") replaced ldirectord (now: ${state:-not-installed}) in $((t1 - t0)) ms"
[ "$(sha256sum "$CFG")" = "$cfg_sum" ] || fail "$CFG unchanged"
ok "$CFG byte-identical"
grep -q "$CFG is kept as it is; it still belongs to the removed" /tmp/apt.log \
  || fail "the installation says that $CFG still belongs to the removed ldirectord"
echo "FIGURE installed_kib $(dpkg-query -W -f='${Installed-Size}' ldirectord-ts)"

for p in /usr/sbin/ldirectord /lib/systemd/system/ldirectord.service /etc/init.d/ldirectord \
  /etc/default/ldirectord /etc/ha.d/resource.d/ldirectord /etc/logrotate.d/ldirectord \
  /usr/share/man/man8/ldirectord.8.gz /usr/share/doc/ldirectord-ts/copyright \
  /usr/share/doc/ldirectord-ts/changelog.gz /usr/share/doc/ldirectord-ts/examples/ldirectord.cf; do
  [ -e "$p" ] || fail "$p installed"
done
[ -x /etc/init.d/ldirectord ] || fail "/etc/init.d/ldirectord is executable"
[ "$(readlink -f /etc/ha.d/resource.d/ldirectord)" = "$LIB/bin/ldirectord" ] || fail "resource.d link"
ok "Debian's paths are ours"

# Every production dependency and the daemon's modules load from the package as pruned
# (no native addon, no type declarations, ...), with the package's own node.
(cd "$LIB" && node/bin/node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const deps = Object.keys(JSON.parse(readFileSync("package.json", "utf8")).dependencies);
  for (const d of deps) await import(d);
  await import("./dist/lib/app/run-daemon.cjs");
  console.log(`${deps.length} packages`);
') > /tmp/load.out 2>&1 || { cat /tmp/load.out; fail "the daemon's modules and packages load"; }
ok "the daemon's modules and its $(cat /tmp/load.out) load"

ldirectord -v > /tmp/v.out || fail "ldirectord -v"
grep -q 'Linux Director' /tmp/v.out || fail "ldirectord -v prints the version"
ldirectord -t "$CFG" || fail "ldirectord -t $CFG"
man -P cat ldirectord 2>/dev/null | grep -q 'DIFFERENCES FROM THE ORIGINAL' || fail "man ldirectord shows our manual"
ok "ldirectord -v, ldirectord -t, man ldirectord"

# -------------------------------------------------------------------- 2. direct ----
mkdir -p /opt/fake-ipvsadm /run/fake-ipvsadm
cp "$PKG/fake-ipvsadm" "$PKG/fake-ipvsadm.mjs" "$PKG/fake-ipvsadm-daemons.mjs" "$PKG/fake-ipvs-proc.mjs" /opt/fake-ipvsadm/
echo '{ "type": "module" }' > /opt/fake-ipvsadm/package.json
# Its own copy of node: step 3 runs the original after our package (and node) is gone.
cp "$LIB/node/bin/node" /opt/fake-ipvsadm/node
cat > /opt/fake-ipvsadm/ipvsadm <<'EOF'
#!/bin/sh
FAKE_IPVSADM_STATE=/run/fake-ipvsadm/table.json exec /opt/fake-ipvsadm/node /opt/fake-ipvsadm/fake-ipvsadm "$@"
EOF
chmod 0755 /opt/fake-ipvsadm/ipvsadm
# The root has no mount(8): a local diversion moves the real one aside instead.
dpkg-divert --quiet --local --rename --divert /usr/sbin/ipvsadm.real --add /usr/sbin/ipvsadm
cp /opt/fake-ipvsadm/ipvsadm /usr/sbin/ipvsadm

# Waits (up to 30 s) until the table's virtual service has both reals ("reals"), one of
# them at least ("some"), or is gone ("empty").
wait_table() {
  local want=$1 i out
  for i in $(seq 150); do
    out=$(ipvsadm -Ln 2>/dev/null || true)
    if [ "$want" = reals ]; then
      if grep -q "${REALS[0]}:$RPORT" <<<"$out" && grep -q "${REALS[1]}:$RPORT" <<<"$out"; then return 0; fi
    elif [ "$want" = some ]; then
      if grep -q "$VIP" <<<"$out" && grep -q ":$RPORT" <<<"$out"; then return 0; fi
    elif ! grep -q "$VIP" <<<"$out"; then
      return 0
    fi
    sleep 0.2
  done
  printf '%s\n' "$out"
  return 1
}
# A daemon is a process started as `... /usr/sbin/ldirectord [<cfg>] start` that is
# still there 5 s on (time for a stopping daemon to finish exiting).
running() {
  local _
  for _ in $(seq 25); do
    pgrep -f '/usr/sbin/ldirectord( [^ ]+)? start$' >/dev/null || return 1
    sleep 0.2
  done
  ps -eo pid,stat,args | grep '[l]directord' || true
  return 0
}

/etc/init.d/ldirectord start || fail "/etc/init.d/ldirectord start"
wait_table reals || fail "init script: the director puts both reals in the table"
/etc/init.d/ldirectord status >/dev/null || fail "/etc/init.d/ldirectord status"
ok "/etc/init.d/ldirectord start: both reals in the table, status 0"

/etc/init.d/ldirectord stop || fail "/etc/init.d/ldirectord stop"
wait_table empty || fail "init script stop empties the table"
running && fail "no daemon after stop"
ok "/etc/init.d/ldirectord stop: table empty, no daemon"

# heartbeat v1 runs /etc/ha.d/resource.d/<name> <args> start|status|stop.
/etc/ha.d/resource.d/ldirectord ldirectord.cf start || fail "resource.d start"
wait_table reals || fail "resource.d: both reals in the table"
/etc/ha.d/resource.d/ldirectord ldirectord.cf status >/dev/null || fail "resource.d status"
# status as heartbeat and Pacemaker run it, every few seconds: 20 runs on the running
# daemon. (Like the original, `ldirectord status` and `ldirectord <file> status` name
# different instances: the init script runs the former, heartbeat the latter.)
times=()
for _ in $(seq 20); do
  t0=$(date +%s%N)
  /usr/sbin/ldirectord ldirectord.cf status > /tmp/status.out 2>&1 || { cat /tmp/status.out; fail "ldirectord ldirectord.cf status"; }
  t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "FIGURE status_ms_median $(sed -n 10p <<<"$sorted")"
echo "FIGURE status_ms_min $(head -n1 <<<"$sorted")"
echo "FIGURE status_ms_max $(tail -n1 <<<"$sorted")"

/etc/ha.d/resource.d/ldirectord ldirectord.cf stop || fail "resource.d stop"
wait_table empty || fail "resource.d stop empties the table"
/etc/ha.d/resource.d/ldirectord ldirectord.cf status >/dev/null 2>&1 && fail "resource.d status after stop is not 0"
ok "heartbeat: resource.d/ldirectord ldirectord.cf start/status/stop"

agent=/usr/lib/ocf/resource.d/heartbeat/ldirectord
ocf-tester -n lvs -o configfile="$CFG" "$agent" > /tmp/ocf.log 2>&1 || { cat /tmp/ocf.log; fail "ocf-tester"; }
grep -q 'passed all tests' /tmp/ocf.log || { cat /tmp/ocf.log; fail "ocf-tester passed all tests"; }
# ocf-tester's last steps are the agent's stop and a monitor saying "not running": a
# daemon still here would be one that the cluster manager believes stopped.
if running; then
  /usr/sbin/ldirectord ldirectord.cf stop || true
  fail "no daemon left after ocf-tester"
fi
ok "Pacemaker: ocf-tester on the unchanged $(dpkg-query -S "$agent" | cut -d: -f1) agent"

# ------------------------------------------------------------ 3. remove, purge ----
apt_get remove ldirectord-ts
[ -e "$LIB" ] && fail "remove: $LIB gone"
[ -e /usr/sbin/ldirectord ] && fail "remove: /usr/sbin/ldirectord gone"
[ -x /etc/init.d/ldirectord ] && fail "remove: the kept init script is not executable"
ok "apt-get remove: program gone, conffiles kept"

apt_get purge ldirectord-ts
[ -z "$(dpkg-query -W -f='${db:Status-Status}' ldirectord-ts 2>/dev/null | grep -v not-installed)" ] \
  || fail "purge: ldirectord-ts not installed"
left=$(find / -xdev \( -path /root/pkg -o -path /proc -o -path /opt/fake-ipvsadm \) -prune -o \
  \( -name '*ldirectord-ts*' -o -path '/etc/rc?.d/*ldirectord' -o -path '/etc/systemd/system/*ldirectord*' \) -print)
for p in /usr/sbin/ldirectord /lib/systemd/system/ldirectord.service /etc/init.d/ldirectord \
  /etc/default/ldirectord /etc/ha.d/resource.d/ldirectord /etc/logrotate.d/ldirectord \
  /usr/share/man/man8/ldirectord.8.gz; do
  if [ -e "$p" ] || [ -L "$p" ]; then left="$left $p"; fi
done
[ -z "$left" ] || fail "purge leaves nothing of ours: $left"
[ "$(sha256sum "$CFG")" = "$cfg_sum" ] || fail "purge: $CFG unchanged"
ok "apt-get purge: no file of ours left, $CFG byte-identical"

apt_get install --no-install-recommends --no-download ldirectord
head -n1 /usr/sbin/ldirectord | grep -q perl || fail "the original is back"
# Every file of the package as shipped, except the admin's configuration.
verify=$(dpkg --verify ldirectord | grep -v " $CFG\$" || true)
[ -z "$verify" ] || fail "dpkg --verify ldirectord: $verify"
[ -x /etc/init.d/ldirectord ] || fail "the original's init script is executable"
/usr/sbin/ldirectord "$CFG" start > /tmp/perl.log 2>&1 || { cat /tmp/perl.log; fail "the original starts"; }
# The original fails a check on a single slow answer (no failurecount in the seed), so
# on a loaded machine its reals may come and go: one in the table shows it directs.
wait_table some || fail "the original puts its virtual service and a real in the table"
/usr/sbin/ldirectord "$CFG" stop > /tmp/perl.log 2>&1 || { cat /tmp/perl.log; fail "the original stops"; }
ok "Debian's ldirectord reinstalled: files as shipped, it directs the table"

echo "PKGTEST PASSED"
