#!/usr/bin/env bash
# ipvs-vm.sh — run a command inside a throwaway Linux guest whose kernel has
# IPVS (ip_vs) as modules, so that end-to-end tests can drive a REAL Linux
# IPVS table with ipvsadm even though the machine's own kernel has
# CONFIG_IP_VS unset.
#
# USAGE
#   ipvs-vm.sh [OPTIONS] [--] COMMAND [ARG...]   run COMMAND in the guest
#   ipvs-vm.sh [OPTIONS] -f SCRIPT [ARG...]      run a host script file in the guest
#   ipvs-vm.sh [OPTIONS] -f - [ARG...] <<'EOF'   ... or a script read from stdin
#   ipvs-vm.sh --self-test                        prove IPVS works (table, LVS-NAT,
#                                                 LVS-DR, weight 0, Node.js)
#   ipvs-vm.sh --build-only                       install packages + build the guest
#
#   This is ldirectord-ts's own copy (from shared/vm/ipvs-vm.sh). In the project:
#     test/e2e/vm/ipvs-vm.sh -C "$PWD" -- bash test/e2e/guest/ipvs-e2e.sh .cache/ipvs-e2e
#   is what test/e2e/ipvs.test.ts runs, and .ci/install.d/20-ipvs-vm.sh builds the
#   guest once per CI machine (cache: ${IVM_CACHE:-~/.cache/ipvs-vm}).
#
#   The exit status is the guest command's exit status; 124 means the
#   --timeout was hit, 130 that we were interrupted (INT/TERM/HUP), 125 that
#   the guest never reported a status (boot failure, kernel panic, ...);
#   a message on stderr tells which.
#
# OPTIONS
#   -C, --share DIR    host directory shared READ-WRITE into the guest at the
#                      same path (default: the current directory; "none" for
#                      no read-write share). Also the command's working dir.
#   -w, --workdir DIR  working directory of the command in the guest
#                      (default: the share dir, else the current directory)
#   -e NAME=VALUE      set an environment variable in the guest (repeatable)
#   -f FILE            run FILE (a host path, or - for stdin) instead of a command
#   -b, --backend B    auto (default) | uml | qemu       (or IVM_BACKEND)
#   -a, --accel A      qemu only: auto (default) | kvm | tcg  (or IVM_ACCEL)
#   -m, --mem SIZE     guest memory, e.g. 1024M (default; or IVM_MEM)
#   -t, --timeout SEC  kill the guest after SEC seconds (default 600; IVM_TIMEOUT)
#   -i, --interactive  attach the terminal (e.g. `ipvs-vm.sh -i bash`)
#   -v, --verbose      notes + a timing summary on stderr; -vv adds kernel messages
#   -q, --quiet        no notes on stderr (errors are still printed)
#       --rebuild      rebuild the cached guest (fetches the newest packages)
#       --self-test    run the built-in end-to-end IPVS test (see guest_self_test)
#       --build-only   only install packages and build the guest, then exit
#   -h, --help         this text
#
# ENVIRONMENT
#   IVM_CACHE    where the built guest lives (default ${XDG_CACHE_HOME:-~/.cache}/ipvs-vm)
#   IVM_NO_APT=1 never call apt-get (fail instead if something is missing)
#   IVM_KEEP=1   keep the per-run dir (guest stage scripts, stdout/stderr,
#                dmesg of the guest) for debugging; its path is printed
#
# WHAT THE GUEST LOOKS LIKE
#   * Its root file system is the HOST's "/" (read-only), with a throwaway
#     in-memory overlay on top: every program installed on the host (bash,
#     node, npm, ipvsadm, ip, curl, busybox, ...) is there at the same path,
#     and writes anywhere succeed but vanish at power-off.
#   * The --share directory is mounted read-write at the same path: results
#     written there survive. Files are created as the host user running this
#     script (root here).
#   * /lib/modules/$(uname -r) holds the guest kernel's modules, so
#     `modprobe ip_vs`, `modprobe veth`, bridge, netfilter, ... just work.
#   * Networking: only "lo" at boot. The guest has NO network device to the
#     host or anywhere else; create namespaces/veths/bridges inside it freely.
#   * The command's stdout and stderr are streamed to this script's stdout
#     and stderr (through files in a shared control directory, so output is
#     byte-exact and fast); stdin is /dev/null unless -i is given. The guest
#     console (boot errors; kernel messages with -vv) goes to stderr.
#     With -i the command runs on the guest console instead (one tty).
#   * The guest is a test harness, not a security boundary (a guest root can
#     remount host paths with the uml backend).
#
# BACKENDS
#   uml  : Debian's user-mode-linux package (a Linux 6.1 kernel that runs as an
#          ordinary process; the IPVS code is the same kernel code). Needs no
#          /dev/kvm and no hardware virtualisation; host / is seen via hostfs.
#          Boots in ~2 s. Single CPU. This is what `auto` picks when KVM is
#          not really usable.
#   qemu : Debian's linux-image-amd64 kernel in qemu-system-x86_64, with a
#          tiny busybox initramfs; host / and the share are seen via virtio-9p.
#          Uses KVM (-enable-kvm -cpu host) when /dev/kvm is usable, otherwise
#          falls back to TCG software emulation (~8-10 s to boot, slow CPU),
#          with a note on stderr. `auto` picks qemu only when KVM is usable.
#          NOTE: a /dev/kvm served by kvm_pvm (Pagetable-based VM, as on these
#          build and CI machines) can run only PVM-enabled guest kernels,
#          so it is treated as "not usable".
#
# EXAMPLES
#   ipvs-vm.sh --self-test
#   ipvs-vm.sh -- sh -c 'modprobe ip_vs && ipvsadm -A -t 10.0.0.1:80 -s rr && ipvsadm -Ln'
#   cd ~/project && ipvs-vm.sh -e CI=1 -- npm test      # project dir is the rw share
#   ipvs-vm.sh -f tests/e2e/ipvs.sh --some-arg
#
# Requirements: Debian bookworm (amd64), root for the first run (apt-get),
# and the Debian package registry. Nothing else is downloaded.
set -euo pipefail
{ # The whole script is one block, so bash reads all of it before running it:
  # editing or replacing this file while runs are under way is safe.

readonly IVM_BUILD_VERSION=2   # bump to invalidate existing caches
readonly ME=${0##*/}

# ----------------------------------------------------------------- helpers --
QUIET=0 VERBOSE=0
note() { [ "$QUIET" = 1 ] || printf '%s: %s\n' "$ME" "$*" >&2; }
vnote() { [ "$VERBOSE" = 0 ] || printf '%s: %s\n' "$ME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 125; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
# POSIX single-quote quoting (for /bin/sh and busybox sh, which lack $'..').
shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
usage() { sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

# ------------------------------------------------------------ arguments ----
CACHE=${IVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipvs-vm}
BACKEND=${IVM_BACKEND:-auto}
ACCEL=${IVM_ACCEL:-auto}
MEM=${IVM_MEM:-1024M}
TIMEOUT=${IVM_TIMEOUT:-600}
SHARE=$PWD WORKDIR='' SCRIPT='' INTERACTIVE=0 REBUILD=0 MODE=run
ENVS=()
while [ $# -gt 0 ]; do
  case $1 in
    -C|--share) SHARE=$2; shift 2 ;;
    -w|--workdir) WORKDIR=$2; shift 2 ;;
    -e) [[ $2 == [A-Za-z_]*=* ]] || die "-e wants NAME=VALUE, got '$2'"; ENVS+=("$2"); shift 2 ;;
    -f) SCRIPT=$2; shift 2; break ;;              # remaining args go to the script
    -b|--backend) BACKEND=$2; shift 2 ;;
    -a|--accel) ACCEL=$2; shift 2 ;;
    -m|--mem) MEM=$2; shift 2 ;;
    -t|--timeout) TIMEOUT=$2; shift 2 ;;
    -i|--interactive) INTERACTIVE=1; shift ;;
    -v|--verbose) VERBOSE=$((VERBOSE + 1)); shift ;;
    -vv) VERBOSE=2; shift ;;
    -q|--quiet) QUIET=1; shift ;;
    --rebuild) REBUILD=1; shift ;;
    --self-test) MODE=selftest; shift ;;
    --build-only) MODE=build; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
[ "$MODE" != run ] || [ -n "$SCRIPT" ] || [ $# -gt 0 ] || { usage >&2; exit 2; }
case $BACKEND in auto|uml|qemu) ;; *) die "--backend must be auto, uml or qemu" ;; esac
case $ACCEL in auto|kvm|tcg) ;; *) die "--accel must be auto, kvm or tcg" ;; esac
[[ $MEM =~ ^[0-9]+[MG]$ ]] || die "--mem wants e.g. 1024M or 2G"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants seconds"
[ "$(uname -m)" = x86_64 ] || die "only x86_64 hosts are supported"
if [ "$SHARE" = none ]; then SHARE=''
else
  SHARE=$(cd "$SHARE" 2>/dev/null && pwd -P) || die "share dir does not exist"
  [ "$SHARE" != / ] || die "refusing to share / read-write (it is already visible read-only)"
fi
[ -n "$WORKDIR" ] || WORKDIR=${SHARE:-$PWD}
# qemu's -virtfs and hostfs mount options are comma-separated lists.
case "$SHARE$CACHE" in *,*) die "the share and cache paths must not contain a comma" ;; esac
mem_mib() { local n=${MEM%[MG]}; [ "${MEM: -1}" = G ] && n=$((n * 1024)); echo "$n"; }

# --------------------------------------------------- backend selection ----
# Real KVM needs kvm_intel or kvm_amd. kvm_pvm ("Pagetable-based Virtual
# Machine") also provides /dev/kvm, but only PVM-patched guest kernels boot
# under it: a stock Debian kernel hangs right after the boot loader.
KVM_WHY='' KVM_STATE=''
kvm_check() {   # sets KVM_STATE to yes | no | unknown, and KVM_WHY
  KVM_STATE=no
  if [ ! -c /dev/kvm ]; then KVM_WHY="/dev/kvm is missing"
  elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then KVM_WHY="/dev/kvm is not read-writable by $(id -un)"
  elif [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then KVM_STATE=yes
  elif [ -d /sys/module/kvm_pvm ]; then
    KVM_WHY="/dev/kvm is served by kvm_pvm, which runs only PVM-enabled guest kernels, not Debian's"
  else KVM_STATE=unknown; KVM_WHY="cannot tell which KVM module serves /dev/kvm"
  fi
}
kvm_check
if [ "$BACKEND" = auto ]; then         # qemu only when KVM is known to work
  if [ "$KVM_STATE" = yes ]; then BACKEND=qemu; ACCEL=kvm
  else BACKEND=uml; vnote "KVM not usable ($KVM_WHY): using the user-mode-linux backend"
  fi
fi
if [ "$BACKEND" = qemu ] && [ "$ACCEL" = auto ]; then
  if [ "$KVM_STATE" != no ]; then ACCEL=kvm   # yes, or unknown: try it
  else ACCEL=tcg
    note "KVM not usable ($KVM_WHY): falling back to TCG software emulation (much slower: ~10 s boot, ~10-30x slower CPU)"
  fi
fi

# ------------------------------------------------------ host packages ----
# Guest userland == host userland, so the tools the guest needs are installed
# on the host. None of them needs the host kernel to have IPVS.
APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  note "apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
  APT_UPDATED=1
}
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${IVM_NO_APT:-0}" != 1 ] || die "missing packages: ${missing[*]} (IVM_NO_APT=1)"
  [ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} — run once as root, or: sudo apt-get install ${missing[*]}"
  apt_update_once
  note "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}
# Download (not install) a .deb of the newest candidate of a package into $2.
apt_download() {
  local pkg=$1 dir=$2
  apt_update_once
  (cd "$dir" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2) || die "apt-get download $pkg failed"
}
# Resolve a Debian meta package (linux-image-amd64) to the real kernel package.
resolve_meta() {
  apt_update_once
  apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}

COMMON_PKGS=(ipvsadm iproute2 kmod busybox-static curl procps util-linux coreutils)
case $BACKEND in
  uml) NEED_PKGS=("${COMMON_PKGS[@]}") ;;                 # UML kernel is downloaded, not installed
  qemu) NEED_PKGS=("${COMMON_PKGS[@]}" qemu-system-x86 cpio xz-utils) ;;
esac
ensure_packages "${NEED_PKGS[@]}"

# --------------------------------------------------- guest build (cache) --
# Only the kernel modules that matter for networking tests are kept:
# all of net/ (netfilter, ipvs, bridge, sched, ...) minus radio/legacy
# protocols, virtual net drivers (veth, dummy, macvlan, vxlan, ...), overlayfs,
# plus (qemu) virtio and 9p; then everything they depend on.
want_modules() {  # $1 = lib/modules/<kver> dir ; prints wanted .ko paths (relative)
  (cd "$1" && {
    find kernel/net -name '*.ko' | grep -Ev '^kernel/net/(wireless|mac80211|bluetooth|nfc|ieee802154|mac802154|can|atm|appletalk|ax25|netrom|rose|x25|lapb|rxrpc|ceph|rds|tipc|batman-adv|6lowpan|phonet|caif|qrtr|smc|sunrpc|dccp|mctp|ife|nsh|psample|hsr|kcm|l2tp)/'
    find kernel/drivers/net -maxdepth 2 -name '*.ko' | grep -E '/(veth|dummy|macvlan|macvtap|tap|tun|ifb|vrf|nlmon|geneve|ipvlan|ipvtap|vxlan|bonding|team[a-z_]*|wireguard|netdevsim)\.ko$' || true
    # crypto + lib: soft dependencies (e.g. libcrc32c needs a "crc32c" driver,
    # which modules.dep does not list), so take them all; they are small.
    find kernel/fs/overlayfs kernel/drivers/virtio kernel/fs/9p kernel/fs/fscache kernel/fs/netfs \
         kernel/crypto kernel/arch/x86/crypto kernel/lib -name '*.ko' 2>/dev/null || true
    find kernel/drivers/char -name 'virtio-rng.ko' -o -name 'virtio_console.ko' 2>/dev/null || true
  })
}
# Copy the wanted modules plus their dependency closure from $1 to $2, depmod.
trim_modules() {
  local src=$1 dst=$2 kv=$3
  [ -s "$src/modules.dep" ] || depmod -b "${src%/lib/modules/*}" "$kv"
  mkdir -p "$dst"
  want_modules "$src" | awk -F': ?' 'NR==FNR{dep[$1]=$2; next}
      {print $1; n=split(dep[$1],a," "); for(i=1;i<=n;i++) print a[i]}' "$src/modules.dep" - \
    | sort -u | (cd "$src" && xargs cp --parents -t "$dst")
  cp "$src"/modules.builtin "$src"/modules.order "$dst"/ 2>/dev/null || true
  cp "$src"/modules.builtin.modinfo "$dst"/ 2>/dev/null || true
  # depmod -b wants <base>/lib/modules/<kv>; give it a temporary view.
  local tmp; tmp=$(mktemp -d); mkdir -p "$tmp/lib/modules"; ln -s "$dst" "$tmp/lib/modules/$kv"
  depmod -b "$tmp" "$kv"; rm -rf "$tmp"
}

build_uml() {  # -> $1 = target dir
  local out=$1 work; work=$(mktemp -d "$CACHE/build.XXXXXX")
  apt_download user-mode-linux "$work"
  dpkg-deb -x "$work"/user-mode-linux_*.deb "$work/x"
  local kv; kv=$(ls "$work/x/usr/lib/uml/modules")
  mkdir -p "$out.tmp"
  cp "$work/x/usr/bin/linux.uml" "$out.tmp/linux"
  trim_modules "$work/x/usr/lib/uml/modules/$kv" "$out.tmp/modules" "$kv"
  echo "$kv" > "$out.tmp/kver"
  dpkg-deb -f "$work"/user-mode-linux_*.deb Version > "$out.tmp/pkgversion"
  rm -rf "$work"
}

# The qemu initramfs is only a boot loader for the real root (host / over 9p).
write_qemu_init() {  # $1 = path
  cat > "$1" <<'EOF'
#!/bin/sh
# ipvs-vm qemu stage 1 (PID 1 in the initramfs; busybox only).
export PATH=/bin
bb=/bin/busybox
$bb mount -t proc proc /proc; $bb mount -t sysfs sysfs /sys; $bb mount -t devtmpfs devtmpfs /dev
die() { echo "ipvs-vm stage1: $*"; $bb sleep 1; $bb poweroff -f; }
kv=$($bb uname -r)
for m in $($bb cat /boot-modules); do $bb insmod "/lib/modules/$kv/$m" || die "insmod $m failed"; done
o9=trans=virtio,version=9p2000.L,msize=512000
$bb mkdir -p /ctl /lower /upper /newroot
$bb mount -t 9p -o $o9,cache=none ivmctl /ctl || die "cannot mount the control share"
. /ctl/config                                       # IVM_SHARE
$bb mount -t 9p -o $o9,ro,cache=loose ivmroot /lower || die "cannot mount host /"
$bb mount -t tmpfs -o mode=0755 ivmupper /upper && $bb mkdir -p /upper/u /upper/w
$bb mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w ivmroot /newroot \
  || die "cannot mount the overlay root"
R=/newroot
$bb mount -t proc proc $R/proc; $bb mount -t sysfs sysfs $R/sys; $bb mount -t devtmpfs devtmpfs $R/dev
$bb mount -t tmpfs -o mode=0755 run $R/run; $bb mount -t tmpfs -o mode=1777 tmp $R/tmp
$bb mkdir -p $R/lib/modules/$kv $R/run/ivm
$bb mount -t 9p -o $o9,ro,cache=loose ivmmods $R/lib/modules/$kv || die "cannot mount modules"
$bb mount --move /ctl $R/run/ivm
if [ -n "$IVM_SHARE" ]; then
  $bb mkdir -p "$R$IVM_SHARE"
  $bb mount -t 9p -o $o9,cache=mmap ivmshare "$R$IVM_SHARE" || die "cannot mount $IVM_SHARE"
fi
exec $bb switch_root $R /bin/sh /run/ivm/stage2.sh
EOF
  chmod +x "$1"
}

build_qemu() {  # -> $1 = target dir
  local out=$1 work; work=$(mktemp -d "$CACHE/build.XXXXXX")
  apt_update_once                       # (not inside the $(...) subshell below)
  local pkg; pkg=$(resolve_meta linux-image-amd64)
  [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package"
  apt_download "$pkg" "$work"
  dpkg-deb -x "$work"/"$pkg"_*.deb "$work/x"
  local kv; kv=$(ls "$work/x/lib/modules")
  mkdir -p "$out.tmp"
  # Uncompressed ELF vmlinux boots through its PVH entry point: this skips the
  # in-guest xz decompression, worth ~6 s under TCG. Keep bzImage as fallback.
  local bz="$work/x/boot/vmlinuz-$kv" off
  cp "$bz" "$out.tmp/vmlinuz"
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -n1 | cut -d: -f1 || true)
  if [ -n "$off" ] && { tail -c +$((off + 1)) "$bz" || true; } | xz -dc --single-stream > "$out.tmp/vmlinux" 2>/dev/null \
     && [ "$(head -c4 "$out.tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    rm -f "$out.tmp/vmlinuz"
  else
    rm -f "$out.tmp/vmlinux"
  fi
  trim_modules "$work/x/lib/modules/$kv" "$out.tmp/modules" "$kv"
  # initramfs: busybox + the modules needed to reach the 9p root, in load order
  local ir="$work/initrd" m d
  mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/lib/modules/$kv"
  cp /bin/busybox "$ir/bin/busybox"; ln -s busybox "$ir/bin/sh"
  for m in virtio_pci 9pnet_virtio 9p overlay virtio-rng; do
    d=$(awk -v m="$m" -F': ?' '{n=split($1,p,"/"); if (p[n]==m".ko") {print; exit}}' "$out.tmp/modules/modules.dep")
    [ -n "$d" ] || die "module $m not found in $kv"
    # modules.dep lists dependencies so that the LAST must be loaded first
    echo "$d" | awk -F': ?' '{n=split($2,a," "); for(i=n;i>=1;i--) print a[i]; print $1}'
  done | awk '!seen[$0]++' > "$ir/boot-modules"
  (cd "$out.tmp/modules" && xargs cp --parents -t "$ir/lib/modules/$kv" < "$ir/boot-modules")
  write_qemu_init "$ir/init"
  (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp/initrd.img"
  echo "$kv" > "$out.tmp/kver"; echo "$pkg $(dpkg-deb -f "$work"/"$pkg"_*.deb Version)" > "$out.tmp/pkgversion"
  rm -rf "$work"
}

# Build once into $CACHE/<backend>-v<N>; concurrent runs wait on a lock.
GUEST="$CACHE/$BACKEND-v$IVM_BUILD_VERSION"
prepare_guest() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if [ "$REBUILD" = 1 ] || [ ! -f "$GUEST/.complete" ]; then
    local t0; t0=$(now)
    note "building the $BACKEND guest into $GUEST (one-off; downloads ~40-70 MB from the Debian registry)"
    rm -rf "$GUEST" "$GUEST.tmp" "$CACHE"/build.*
    "build_$BACKEND" "$GUEST"
    touch "$GUEST.tmp/.complete"; mv "$GUEST.tmp" "$GUEST"
    note "guest built in $(elapsed "$t0" "$(now)") s: $(du -sh "$GUEST" | cut -f1) in $GUEST"
  fi
  flock -u 9; exec 9>&-
}
prepare_guest
[ "$MODE" = build ] && { echo "$GUEST"; exit 0; }
KV=$(cat "$GUEST/kver")

# ------------------------------------------------------ guest self-test ----
# Written into the control dir and run in the guest for --self-test.
guest_self_test() { cat <<'EOF'
#!/bin/bash
# ipvs-vm self-test — runs INSIDE the guest. All addresses below live only in
# network namespaces of the guest, which has no network device to the outside.
set -u
P=0 F=0
ok() { echo "PASS: $*"; P=$((P+1)); }
ko() { echo "FAIL: $*"; F=$((F+1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
ns() { ip netns exec "$@"; }
t0=$(date +%s.%N); lap() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "   (%.2f s)\n", b-a}'; t0=$(date +%s.%N); }
echo "guest kernel $(uname -r), $(ipvsadm --version 2>&1 | head -1)"
check "guest starts with only lo (no path to the outside)" test "$(ip -o link show | grep -vc ': lo:')" = 0

echo "== 1. IPVS table via ipvsadm"
check "modprobe ip_vs" modprobe ip_vs
ipvsadm -A -t 10.0.0.1:80 -s rr && ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1
ipvsadm -Ln
save=$(ipvsadm -S -n); echo "$save"
check "ipvsadm -S -n round-trips the table" test "$save" = "$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1')"
check "/proc/net/ip_vs shows the service" grep -q '0A000001:0050 rr' /proc/net/ip_vs
check "ip_vs, ip_vs_rr modules loaded" sh -c 'lsmod | grep -q "^ip_vs_rr"'
ipvsadm -C; lap

echo "== 2. LVS-NAT: client ns -> VIP 192.0.2.100:80 on the director -> real servers rs1, rs2"
VIP=192.0.2.100
sysctl -qw net.ipv4.ip_forward=1
ip netns add cl
ip link add d-cl type veth peer name eth0 netns cl
ip addr add 192.0.2.1/24 dev d-cl; ip addr add $VIP/32 dev d-cl; ip link set d-cl up
ns cl ip addr add 192.0.2.2/24 dev eth0; ns cl ip link set eth0 up; ns cl ip link set lo up
ns cl ip route add default via 192.0.2.1
for i in 1 2; do
  ip netns add rs$i
  ip link add d-rs$i type veth peer name eth0 netns rs$i
  ip addr add 198.51.100.$((i*4-3))/30 dev d-rs$i; ip link set d-rs$i up
  ns rs$i ip addr add 198.51.100.$((i*4-2))/30 dev eth0; ns rs$i ip link set eth0 up; ns rs$i ip link set lo up
  ns rs$i ip route add default via 198.51.100.$((i*4-3))
  mkdir -p /tmp/www$i; echo "rs$i" > /tmp/www$i/index.html
  ns rs$i busybox httpd -p 80 -h /tmp/www$i          # real server (daemonizes)
done
ipvsadm -A -t $VIP:80 -s rr
ipvsadm -a -t $VIP:80 -r 198.51.100.2:80 -m -w 1
ipvsadm -a -t $VIP:80 -r 198.51.100.6:80 -m -w 1
ipvsadm -Ln
# N requests, each from its own client port, so no IPVS connection entry is reused
fetch() { local base=$1 n=$2 k; for k in $(seq "$n"); do
    ns cl curl -s -m 5 --local-port $((base + k)) "http://$VIP/" || echo "curl-error"; done | sort | uniq -c; }
r=$(fetch 40000 10); echo "$r"
check "rr over 2 reals: 5 x rs1 and 5 x rs2" test "$(echo $r)" = "5 rs1 5 rs2"
ipvsadm -e -t $VIP:80 -r 198.51.100.2:80 -m -w 0
ipvsadm -Ln
r=$(fetch 41000 8); echo "$r"
check "weight 0 on rs1: new connections go only to rs2" test "$(echo $r)" = "8 rs2"
# The connection table (-Lnc) is exact at once; the --stats counters are only
# refreshed by the kernel's rate estimator every 2 s, so they are not checked.
ipvsadm -Lnc | head -n 4; echo "   ..."
check "connection table: 5 entries to rs1, 13 to rs2" \
  test "$(ipvsadm -Lnc | grep -c ' 198.51.100.2:80$') $(ipvsadm -Lnc | grep -c ' 198.51.100.6:80$')" = "5 13"
ipvsadm -e -t $VIP:80 -r 198.51.100.2:80 -m -w 1; lap

echo "== 3. LVS-DR on a bridge: reals answer the client directly (VIP on their lo)"
modprobe bridge
ip link add br0 type bridge && ip link set br0 up
ip addr add 203.0.113.1/24 dev br0; ip addr add 203.0.113.100/32 dev br0
ip netns add dcl
for n in dcl dr1 dr2; do
  [ $n = dcl ] || ip netns add $n
  ip link add b-$n type veth peer name eth0 netns $n; ip link set b-$n master br0 up
  ns $n ip link set lo up; ns $n ip link set eth0 up
done
ns dcl ip addr add 203.0.113.2/24 dev eth0
for i in 1 2; do
  ns dr$i ip addr add 203.0.113.1$i/24 dev eth0
  ns dr$i ip addr add 203.0.113.100/32 dev lo
  ns dr$i sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  mkdir -p /tmp/dr$i; echo "dr$i" > /tmp/dr$i/index.html
  ns dr$i busybox httpd -p 80 -h /tmp/dr$i
done
ipvsadm -A -t 203.0.113.100:80 -s wrr
ipvsadm -a -t 203.0.113.100:80 -r 203.0.113.11:80 -g -w 1
ipvsadm -a -t 203.0.113.100:80 -r 203.0.113.12:80 -g -w 3
ipvsadm -Ln
r=$(for k in $(seq 8); do ns dcl curl -s -m 5 --local-port $((42000 + k)) http://203.0.113.100/ || echo curl-error; done | sort | uniq -c)
echo "$r"
check "DR wrr 1:3 -> 2 x dr1, 6 x dr2" test "$(echo $r)" = "2 dr1 6 dr2"; lap

echo "== 4. Node.js drives ipvsadm and sends HTTP through the VIP"
if command -v node >/dev/null; then
  cat > /tmp/ivm-node-test.js <<'JS'
const { execFileSync } = require('child_process');
const ipvsadm = (...a) => execFileSync('ipvsadm', a, { encoding: 'utf8' });
ipvsadm('-A', '-t', '192.0.2.200:8080', '-s', 'wlc');
ipvsadm('-a', '-t', '192.0.2.200:8080', '-r', '198.51.100.2:80', '-m', '-w', '3');
ipvsadm('-a', '-t', '192.0.2.200:8080', '-r', '198.51.100.6:80', '-m', '-w', '2');
const saved = ipvsadm('-S', '-n');
process.stdout.write(saved);
const want = ['-A -t 192.0.2.200:8080 -s wlc',
              '-a -t 192.0.2.200:8080 -r 198.51.100.2:80 -m -w 3',
              '-a -t 192.0.2.200:8080 -r 198.51.100.6:80 -m -w 2'];
for (const l of want) if (!saved.includes(l)) { console.error('missing: ' + l); process.exit(1); }
ipvsadm('-D', '-t', '192.0.2.200:8080');
console.log('node ' + process.version + ': ipvsadm add/save/delete OK');
JS
  check "node runs ipvsadm (add/save/delete)" node /tmp/ivm-node-test.js
  cat > /tmp/ivm-node-client.js <<'JS'
const http = require('http');
const get = (port) => new Promise((res, rej) => {
  http.get({ host: '192.0.2.100', port: 80, path: '/', localPort: port, agent: false }, (r) => {
    let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => res(b.trim()));
  }).on('error', rej);
});
(async () => {
  const seen = {};
  for (let i = 1; i <= 6; i++) { const b = await get(43000 + i); seen[b] = (seen[b] || 0) + 1; }
  console.log(JSON.stringify(seen));
  process.exit(seen.rs1 === 3 && seen.rs2 === 3 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
JS
  check "node HTTP client in the client ns is balanced rs1/rs2 3:3" ns cl node /tmp/ivm-node-client.js
else
  echo "SKIP: node is not installed on the host"
fi
lap
echo "$P passed, $F failed"
[ "$F" = 0 ]
EOF
}

# ----------------------------------------------------------- one run -------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/ipvs-vm.XXXXXX")
[[ $RUN != *[[:space:]]* ]] || RUN=$(mktemp -d /tmp/ipvs-vm.XXXXXX)
CTL=$RUN/ctl; mkdir -p "$CTL"
cleanup() {
  if [ "${IVM_KEEP:-0}" = 1 ]; then printf '%s: kept the run dir %s\n' "$ME" "$RUN" >&2
  else rm -rf "$RUN"; fi
}
trap cleanup EXIT

# cmd.sh: what the guest executes (bash), with cwd and environment.
{
  echo '#!/bin/bash'
  printf 'export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 IVM_GUEST=1 IVM_BACKEND=%q\n' "$BACKEND"
  printf 'export TERM=%q\n' "$( [ "$INTERACTIVE" = 1 ] && echo "${TERM:-linux}" || echo dumb)"
  [ -z "${CI:-}" ] || printf 'export CI=%q\n' "$CI"
  for e in "${ENVS[@]+"${ENVS[@]}"}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
  printf 'cd -- %q || exit 125\n' "$WORKDIR"
  if [ "$MODE" = selftest ]; then
    guest_self_test > "$CTL/script"; echo 'exec bash /run/ivm/script'
  elif [ -n "$SCRIPT" ]; then
    if [ "$SCRIPT" = - ]; then cat > "$CTL/script"; else cat -- "$SCRIPT" > "$CTL/script" || die "cannot read $SCRIPT"; fi
    chmod +x "$CTL/script"
    if head -c2 "$CTL/script" | grep -q '^#!'; then printf 'exec /run/ivm/script'; else printf 'exec bash /run/ivm/script'; fi
    printf ' %q' "$@"; echo
  else
    printf 'exec'; printf ' %q' "$@"; echo
  fi
} > "$CTL/cmd.sh"
printf 'IVM_SHARE=%s\n' "$(shq "$SHARE")" > "$CTL/config"

# stage2.sh: PID 1 in the final root (host / + overlay), same for both backends.
cat > "$CTL/stage2.sh" <<EOF
#!/bin/sh
# ipvs-vm stage 2: PID 1 in the final root. Runs cmd.sh, records its status.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
C=/run/ivm
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts 2>/dev/null
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do [ -e /dev/\${i#*:} ] || ln -s /proc/self/fd/\${i%%:*} /dev/\${i#*:}; done
echo ipvs-vm > /proc/sys/kernel/hostname
ip link set lo up 2>/dev/null || busybox ip link set lo up
cut -d' ' -f1 /proc/uptime > \$C/t-ready
if [ "$INTERACTIVE" = 1 ]; then
  setsid -c bash \$C/cmd.sh </dev/console >/dev/console 2>&1
else
  bash \$C/cmd.sh </dev/null >\$C/stdout 2>\$C/stderr
fi
echo \$? > \$C/rc
cut -d' ' -f1 /proc/uptime > \$C/t-done
dmesg > \$C/dmesg 2>/dev/null
sync
busybox poweroff -f 2>/dev/null
echo o > /proc/sysrq-trigger; sleep 10
EOF
chmod +x "$CTL/stage2.sh"

# Guest console -> our stderr, without the tty's carriage returns (and any
# firmware terminal escape codes, should one ever print some).
filter() { sed -u -e 's/\r$//' -e 's/\x1bc//g; s/\x1b\[?7l//g; s/\x1b\[2J//g; s/\x1b\[0m//g'; }
LOGLEVEL=0; [ "$VERBOSE" -ge 2 ] && LOGLEVEL=7

# Run the VM under `timeout`, its console filtered to our stderr. timeout puts
# the VM in a process group of its own (so a timeout kills every helper
# process); that group does not see the terminal's Ctrl-C, so INT/TERM/HUP
# received here are forwarded to timeout, which passes them on to the VM.
VM_PID=''
INTERRUPTED=0
forward_signal() { INTERRUPTED=1; [ -z "$VM_PID" ] || kill -TERM "$VM_PID" 2>/dev/null || true; }
run_vm() {
  if [ "$INTERACTIVE" = 1 ]; then          # terminal goes straight to the guest
    timeout --foreground -k 5 "$TIMEOUT" "$@"; return
  fi
  local rc fpid opid epid
  mkfifo "$RUN/console"
  filter < "$RUN/console" >&2 & fpid=$!
  : > "$CTL/stdout"; : > "$CTL/stderr"
  timeout -k 5 "$TIMEOUT" "$@" < /dev/null > "$RUN/console" 2>&1 & VM_PID=$!
  # the guest writes the command's output to these files; stream them live
  tail -q -n +1 -s 0.1 --pid="$VM_PID" -f "$CTL/stdout" & opid=$!
  tail -q -n +1 -s 0.1 --pid="$VM_PID" -f "$CTL/stderr" >&2 & epid=$!
  trap forward_signal INT TERM HUP
  while :; do                              # wait again if a trapped signal interrupted wait
    wait "$VM_PID"; rc=$?
    kill -0 "$VM_PID" 2>/dev/null || break
  done
  trap - INT TERM HUP
  wait "$fpid" "$opid" "$epid" 2>/dev/null || true   # let them print the last bytes
  return "$rc"
}

run_uml() {
  # Stage 1 runs as PID 1 from the host's / (hostfs, read-only) and builds
  # the final root: overlay(host /, tmpfs) + proc/sys/dev + modules + shares.
  local MODS=$GUEST/modules
  cat > "$CTL/stage1.sh" <<EOF
#!/bin/sh
# ipvs-vm UML stage 1 (PID 1, host / read-only via hostfs).
PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH
die() { echo "ipvs-vm stage1: \$*"; busybox poweroff -f; }
S=/dev/ivm                                   # scratch: UML auto-mounts a devtmpfs on /dev
mkdir -p \$S && mount -t tmpfs -o mode=0755 ivm \$S || die "tmpfs"
mkdir -p \$S/ctl \$S/u \$S/w \$S/root
mount -t proc proc /proc
mount -t hostfs -o $(shq "$CTL") hostfs \$S/ctl || die "cannot mount the control dir"
insmod $(shq "$MODS/kernel/fs/overlayfs/overlay.ko") || die "cannot load overlay.ko"
mount -t overlay -o lowerdir=/,upperdir=\$S/u,workdir=\$S/w ivmroot \$S/root || die "overlay"
R=\$S/root
mount -t proc proc \$R/proc; mount -t sysfs sysfs \$R/sys; mount -t devtmpfs devtmpfs \$R/dev
mount -t tmpfs -o mode=0755 run \$R/run; mount -t tmpfs -o mode=1777 tmp \$R/tmp
mkdir -p \$R/lib/modules/$KV \$R/run/ivm
mount -r -t hostfs -o $(shq "$MODS") hostfs \$R/lib/modules/$KV || die "cannot mount modules"
mount -n --move \$S/ctl \$R/run/ivm
if [ -n $(shq "$SHARE") ]; then
  mkdir -p \$R$(shq "$SHARE")
  mount -t hostfs -o $(shq "$SHARE") hostfs \$R$(shq "$SHARE") || die "cannot mount the share"
fi
# Make the overlay the real root (pivot_root), so mount tables look normal.
if cd \$R && mkdir -p run/.oldroot && pivot_root . run/.oldroot; then
  cd / && umount -l /run/.oldroot && rmdir /run/.oldroot
  exec /bin/sh /run/ivm/stage2.sh
fi
exec chroot \$R /bin/sh /run/ivm/stage2.sh     # fallback if pivot_root failed
EOF
  chmod +x "$CTL/stage1.sh"
  # UML backs guest RAM with a file in \$TMPDIR or /dev/shm: prefer a roomy,
  # exec-capable tmpfs; else fall back to the run dir on disk.
  local tmpd=/dev/shm need; need=$(( $(mem_mib) * 1024 ))
  if ! findmnt -no FSTYPE /dev/shm 2>/dev/null | grep -qx tmpfs \
     || findmnt -no OPTIONS /dev/shm | grep -qw noexec \
     || [ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -lt "$need" ]; then tmpd=$RUN; fi
  local con="con0=null,fd:1"; [ "$INTERACTIVE" = 1 ] && con="con0=fd:0,fd:1"
  local cmd=(env -u TMP -u TEMP TMPDIR="$tmpd" "$GUEST/linux" mem="$MEM" root=/dev/root rootfstype=hostfs
             rootflags=/ ro init="$CTL/stage1.sh" "$con" con=null ssl=null quiet "loglevel=$LOGLEVEL"
             umid="ivm$$" uml_dir="$RUN")
  run_vm "${cmd[@]}"
}

run_qemu() {
  local kernel="$GUEST/vmlinux" accel smp
  [ -f "$kernel" ] || kernel="$GUEST/vmlinuz"
  if [ "$ACCEL" = kvm ]; then accel=(-accel kvm -cpu host); smp=$(nproc)
  else accel=(-accel tcg,thread=multi -cpu max); smp=$(nproc); fi
  [ "$smp" -le 4 ] || smp=4
  local v9=(security_model=none) cmd
  # "-display none" rather than -nographic: same headless VM, but -nographic
  # also turns on SeaBIOS's serial console, which prints a banner and escape
  # codes before the kernel starts.
  cmd=(qemu-system-x86_64 -nodefaults -no-user-config -display none -machine q35 "${accel[@]}"
       -smp "$smp" -m "$MEM" -no-reboot -kernel "$kernel" -initrd "$GUEST/initrd.img"
       -append "console=ttyS0 quiet loglevel=$LOGLEVEL panic=-1 edd=off rdinit=/init"
       -chardev stdio,id=con -serial chardev:con -device virtio-rng-pci
       -virtfs "local,path=/,mount_tag=ivmroot,readonly=on,multidevs=remap,${v9[*]}"
       -virtfs "local,path=$GUEST/modules,mount_tag=ivmmods,readonly=on,${v9[*]}"
       -virtfs "local,path=$CTL,mount_tag=ivmctl,${v9[*]}")
  [ -z "$SHARE" ] || cmd+=(-virtfs "local,path=$SHARE,mount_tag=ivmshare,multidevs=remap,${v9[*]}")
  run_vm "${cmd[@]}"
}

T0=$(now)
vnote "backend=$BACKEND$( [ "$BACKEND" = qemu ] && echo "/$ACCEL") kernel=$KV share=${SHARE:-none} run=$RUN"
set +e
"run_$BACKEND"; VMRC=$?
set -e
T1=$(now)
if [ -s "$CTL/rc" ]; then
  RC=$(cat "$CTL/rc")
elif [ "$INTERRUPTED" = 1 ]; then
  printf '%s: interrupted: the guest was stopped\n' "$ME" >&2; RC=130
elif [ "$VMRC" = 124 ] || [ "$VMRC" = 137 ]; then
  printf '%s: timeout: the guest was killed after %ss\n' "$ME" "$TIMEOUT" >&2; RC=124
else
  printf '%s: the guest stopped without reporting a status (vm exit code %s); rerun with -vv for kernel messages\n' "$ME" "$VMRC" >&2
  RC=125
fi
if [ "$VERBOSE" -ge 1 ]; then
  printf '%s: timing: %s s from VM start to power-off; guest uptime at command start %s s, at command end %s s; exit %s\n' \
    "$ME" "$(elapsed "$T0" "$T1")" "$(cat "$CTL/t-ready" 2>/dev/null || echo ?)" "$(cat "$CTL/t-done" 2>/dev/null || echo ?)" "$RC" >&2
fi
exit "$RC"
}
