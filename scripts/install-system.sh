#!/usr/bin/env bash
# Installs ldirectord-ts as the system's ldirectord (run by `npm run install-system`).
#
#   <prefix>/lib/ldirectord-ts/       the program: bin/, dist/, man/, system/, the runtime
#                                     node_modules (no dev dependencies), this script
#   <prefix>/sbin/ldirectord       -> <prefix>/lib/ldirectord-ts/bin/ldirectord
#   <prefix>/share/man/man8/ldirectord.8.gz
#   /etc/ha.d/resource.d/ldirectord -> <prefix>/sbin/ldirectord   (heartbeat v1)
#   /etc/systemd/system/ldirectord.service
#   /etc/logrotate.d/ldirectord
#
# Why /usr/sbin/ldirectord is a symbolic link and not a wrapper script: the OCF agent
# (ocf:heartbeat:ldirectord) stops a daemon it cannot query with
# `pgrep -f "/usr/sbin/ldirectord <cfg> start"`. A script started through the link runs as
# `<node> /usr/sbin/ldirectord <cfg> start` (the kernel passes the link's path to the
# interpreter, and Node keeps it in process.argv[1]), which that pattern matches; a wrapper
# running `node /usr/lib/.../bin/ldirectord` would not. The installed bin/ldirectord gets the
# absolute path of node in its #! line, because Pacemaker and heartbeat run agents with a
# minimal PATH.
#
# An existing /usr/sbin/ldirectord that is not ours (the Perl original) is moved to
# /usr/sbin/ldirectord.perl once, and so is its man page (ldirectord.perl.8.gz). On a dpkg
# system this is done with `dpkg-divert --local --rename`, so that an upgrade of the Debian
# ldirectord package writes its files to the .perl names instead of replacing ours.
# --uninstall removes what was installed and puts the originals back.
#
# The systemd unit and the logrotate file are configuration: an existing file that was not
# installed by this script is left alone (ours is in <prefix>/lib/ldirectord-ts/system/).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/install-system.sh [options]

Installs ldirectord-ts (already built: npm run build) as the system's ldirectord.

Options:
  --prefix=DIR      install under DIR (default /usr; environment PREFIX)
  --destdir=DIR     stage the installation under DIR (environment DESTDIR); links and
                    paths written into files still name the final locations
  --sysconfdir=DIR  configuration root (default /etc)
  --unitdir=DIR     where ldirectord.service goes (default <sysconfdir>/systemd/system)
  --node=PATH       the node binary written into the #! line (default: node on PATH)
  --no-divert       move originals aside with mv even on a dpkg system
  --uninstall       remove the installation and restore the originals
  -h, --help        this text
EOF
}

die() { printf 'install-system: error: %s\n' "$*" >&2; exit 1; }
warn() { printf 'install-system: warning: %s\n' "$*" >&2; }
say() { printf 'install-system: %s\n' "$*"; }

PREFIX=${PREFIX:-/usr}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=/etc
UNITDIR=
NODE_BIN=
MODE=install
DIVERT=auto

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --prefix=*) PREFIX=${1#*=} ;;
      --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; PREFIX=$2; shift ;;
      --destdir=*) DESTDIR=${1#*=} ;;
      --destdir) [ $# -ge 2 ] || die "--destdir needs a value"; DESTDIR=$2; shift ;;
      --sysconfdir=*) SYSCONFDIR=${1#*=} ;;
      --sysconfdir) [ $# -ge 2 ] || die "--sysconfdir needs a value"; SYSCONFDIR=$2; shift ;;
      --unitdir=*) UNITDIR=${1#*=} ;;
      --unitdir) [ $# -ge 2 ] || die "--unitdir needs a value"; UNITDIR=$2; shift ;;
      --node=*) NODE_BIN=${1#*=} ;;
      --node) [ $# -ge 2 ] || die "--node needs a value"; NODE_BIN=$2; shift ;;
      --no-divert) DIVERT=no ;;
      --uninstall) MODE=uninstall ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
  done
  for v in PREFIX SYSCONFDIR; do
    case "${!v}" in /*) ;; *) die "$v must be an absolute path: ${!v}" ;; esac
  done
  PREFIX=${PREFIX%/}; SYSCONFDIR=${SYSCONFDIR%/}
  [ -n "$PREFIX" ] || die "--prefix=/ is not supported"
  if [ -n "$DESTDIR" ]; then
    case "$DESTDIR" in /*) ;; *) DESTDIR="$PWD/$DESTDIR" ;; esac
    DESTDIR=${DESTDIR%/}
  fi
  UNITDIR=${UNITDIR:-$SYSCONFDIR/systemd/system}
  UNITDIR=${UNITDIR%/}

  SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
  LIBDIR=$PREFIX/lib/ldirectord-ts
  SBIN=$PREFIX/sbin/ldirectord
  SBIN_BACKUP=$PREFIX/sbin/ldirectord.perl
  LAUNCHER=$LIBDIR/bin/ldirectord
  MANPAGE=$PREFIX/share/man/man8/ldirectord.8.gz
  MANPAGE_BACKUP=$PREFIX/share/man/man8/ldirectord.perl.8.gz
  HA_LINK=$SYSCONFDIR/ha.d/resource.d/ldirectord
  UNIT=$UNITDIR/ldirectord.service
  LOGROTATE=$SYSCONFDIR/logrotate.d/ldirectord
}

# A final path as staged: $DESTDIR + path.
D() { printf '%s%s' "$DESTDIR" "$1"; }

exists() { [ -e "$1" ] || [ -L "$1" ]; }

# ------------------------------------------------------------------ ownership ----

is_our_libdir() { [ -f "$1/package.json" ] && grep -q '"name": *"ldirectord-ts"' "$1/package.json"; }
is_our_link() { [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; }
# Our unit and logrotate files say so in their first lines; our man page in its .TH line.
# (No `grep -q` at the end of a pipe: with pipefail, the writer's SIGPIPE would count.)
is_our_text() { [ -f "$1" ] && awk 'NR <= 5 && /ldirectord-ts/ { found = 1 } END { exit !found }' "$1"; }
is_our_manpage() { [ -f "$1" ] && gzip -dc "$1" 2>/dev/null | awk '/^\.TH LDIRECTORD 8 .*ldirectord-ts/ { found = 1 } END { exit !found }'; }

# ------------------------------------------------------------------ diversion ----

DPKG_ROOT_OPT=()
use_dpkg() {
  command -v dpkg-divert >/dev/null 2>&1 || return 1
  [ -f "$(D /var/lib/dpkg/status)" ] || return 1
  if [ -n "$DESTDIR" ]; then DPKG_ROOT_OPT=(--root="$DESTDIR"); else DPKG_ROOT_OPT=(); fi
  return 0
}
is_diverted() { [ "$(dpkg-divert "${DPKG_ROOT_OPT[@]}" --truename "$1")" != "$1" ]; }
# dpkg >= 1.19.1 wants --no-rename spelled out (its default will change).
no_rename() { if dpkg-divert --help 2>/dev/null | grep -e '--no-rename' >/dev/null; then printf '%s' --no-rename; fi; }

# set_aside PATH BACKUP OURS-TEST [divert]: moves an existing file at PATH that OURS-TEST
# does not claim to BACKUP, once. With "divert", on a dpkg system (prefix /usr), a local
# diversion does the move and keeps package upgrades away from PATH.
set_aside() {
  local path=$1 backup=$2 ours=$3 divert=${4:-}
  if [ "$divert" = divert ] && [ "$DIVERT" != no ] && [ "$PREFIX" = /usr ] && use_dpkg && ! is_diverted "$path"; then
    if exists "$(D "$backup")" || $ours "$(D "$path")"; then
      dpkg-divert "${DPKG_ROOT_OPT[@]}" --quiet --local $(no_rename) --divert "$backup" --add "$path"
    else
      dpkg-divert "${DPKG_ROOT_OPT[@]}" --quiet --local --rename --divert "$backup" --add "$path"
    fi
    say "diverted $path to $backup (dpkg-divert)"
  fi
  local p; p=$(D "$path")
  exists "$p" || return 0
  $ours "$p" && return 0
  local b; b=$(D "$backup")
  if ! exists "$b"; then
    mv "$p" "$b"
    say "moved $path to $backup"
  elif [ -f "$p" ] && [ ! -L "$p" ] && cmp -s "$p" "$b"; then
    rm -f "$p"
  else
    local stamp; stamp=$(date +%Y%m%d%H%M%S)
    mv "$p" "$b.$stamp"
    warn "$backup already exists: moved the other $path to $backup.$stamp"
  fi
}

# Puts $2 back at $1 (after ours was removed from $1).
put_back() {
  local path=$1 backup=$2
  if use_dpkg && is_diverted "$path"; then
    if exists "$(D "$path")"; then
      dpkg-divert "${DPKG_ROOT_OPT[@]}" --quiet --local $(no_rename) --remove "$path"
    else
      dpkg-divert "${DPKG_ROOT_OPT[@]}" --quiet --local --rename --remove "$path"
    fi
    say "removed the diversion of $path"
    return 0
  fi
  if exists "$(D "$backup")" && ! exists "$(D "$path")"; then
    mv "$(D "$backup")" "$(D "$path")"
    say "restored $path from $backup"
  fi
}

# ------------------------------------------------------------------- install ----

find_node() {
  if [ -z "$NODE_BIN" ]; then
    NODE_BIN=$(command -v node || true)
    [ -n "$NODE_BIN" ] || die "node not found on PATH; give --node=/path/to/node"
  fi
  case "$NODE_BIN" in /*) ;; *) die "--node must be an absolute path: $NODE_BIN" ;; esac
  [ -x "$NODE_BIN" ] || die "not executable: $NODE_BIN"
  "$NODE_BIN" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
    || die "$NODE_BIN is Node.js $("$NODE_BIN" -v); ldirectord-ts needs 20.19 or later"
}

# The runtime packages: every package-lock entry that is not a dev dependency, without
# the ones nested in another listed package (they are copied with it).
runtime_packages() {
  "$NODE_BIN" -e '
    const lock = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const keys = Object.entries(lock.packages || {})
      .filter(([k, v]) => k.startsWith("node_modules/") && !v.dev)
      .map(([k]) => k)
      .sort();
    const top = keys.filter((k) => !keys.some((o) => o !== k && k.startsWith(o + "/")));
    process.stdout.write(top.join("\n") + (top.length ? "\n" : ""));
  ' "$SRC/package-lock.json"
}

copy_program() {
  [ -f "$SRC/dist/lib/cli/main.js" ] && [ -f "$SRC/dist/lib/cli/main.cjs" ] || die "$SRC/dist is not built: run npm run build first"
  [ -f "$SRC/man/ldirectord.8" ] || die "missing $SRC/man/ldirectord.8"
  local target stage old
  target=$(D "$LIBDIR")
  if [ -e "$target" ] && ! is_our_libdir "$target"; then
    die "$target exists and is not an ldirectord-ts installation"
  fi
  mkdir -p "$(dirname "$target")"
  stage="$target.new.$$"
  old="$target.old.$$"
  rm -rf "$stage"
  mkdir -p "$stage/scripts"
  cp -R "$SRC/bin" "$SRC/dist" "$SRC/man" "$SRC/system" "$stage/"
  cp "$SRC/scripts/install-system.sh" "$stage/scripts/"
  local f
  for f in package.json package-lock.json README.md LICENSE LICENSE.md COPYING; do
    [ -f "$SRC/$f" ] && cp "$SRC/$f" "$stage/"
  done
  local pkg pkgs=()
  while IFS= read -r pkg; do
    [ -n "$pkg" ] || continue
    if exists "$SRC/$pkg"; then
      pkgs+=("$pkg")
    else
      warn "runtime package $pkg is not in $SRC/node_modules (optional for this platform?)"
    fi
  done < <(runtime_packages)
  local n=${#pkgs[@]}
  if [ "$n" -gt 0 ]; then
    # One cp for all (GNU --parents keeps node_modules/...); one per package otherwise.
    if ! (cd "$SRC" && cp -RL --parents -- "${pkgs[@]}" "$stage/") 2>/dev/null; then
      for pkg in "${pkgs[@]}"; do
        mkdir -p "$stage/$(dirname "$pkg")"
        rm -rf "${stage:?}/$pkg"
        cp -RL "$SRC/$pkg" "$stage/$pkg"
      done
    fi
  fi
  # The #! line names node by absolute path (agents run with a minimal PATH). What the
  # source #! line gives `env -S` besides node is kept (the variables set before it, node's
  # options after it), and with it `env -S`: the kernel would hand node all of them as one
  # argument (see bin/ldirectord).
  shebang=$(head -n1 "$stage/bin/ldirectord")
  node_env=$(printf '%s\n' "$shebang" | sed -n 's|^#!/usr/bin/env -S \(\([A-Za-z_][A-Za-z0-9_]*=[^ ]* \)*\)node\( .*\)\{0,1\}$|\1|p')
  node_opts=$(printf '%s\n' "$shebang" | sed -n 's|^#!.*[/ ]node\( .*\)\{0,1\}$|\1|p')
  if [ -n "$node_env$node_opts" ]; then
    sed -i "1s|^#!.*\$|#!/usr/bin/env -S $node_env$NODE_BIN$node_opts|" "$stage/bin/ldirectord"
  else
    sed -i "1s|^#!.*\$|#!$NODE_BIN|" "$stage/bin/ldirectord"
  fi
  chmod 0755 "$stage/bin/ldirectord" "$stage/scripts/install-system.sh"
  chmod -R u+rwX,go+rX,go-w "$stage"
  if [ -e "$target" ]; then mv "$target" "$old"; fi
  mv "$stage" "$target"
  rm -rf "$old"
  say "installed the program in $LIBDIR ($n runtime packages, #!$NODE_BIN)"
}

install_link() {
  local link=$1 target=$2
  mkdir -p "$(dirname "$(D "$link")")"
  ln -sfn "$target" "$(D "$link")"
  say "linked $link -> $target"
}

# Configuration-like files: installed when absent or ours, otherwise left alone.
install_config() {
  local src=$1 dest=$2 what=$3 d
  d=$(D "$dest")
  if exists "$d" && ! is_our_text "$d"; then
    warn "kept the existing $dest (not installed by ldirectord-ts); ours is $LIBDIR/system/$(basename "$src")"
    return 0
  fi
  mkdir -p "$(dirname "$d")"
  sed -e "s|/usr/sbin/ldirectord|$SBIN|g" "$src" > "$d.tmp.$$"
  chmod 0644 "$d.tmp.$$"
  mv "$d.tmp.$$" "$d"
  say "installed the $what $dest"
}

systemd_reload() {
  if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload || warn "systemctl daemon-reload failed"
  fi
}

do_install() {
  find_node
  command -v gzip >/dev/null 2>&1 || die "gzip is needed for the man page"
  copy_program

  set_aside "$SBIN" "$SBIN_BACKUP" is_our_sbin divert
  install_link "$SBIN" "$LAUNCHER"

  set_aside "$MANPAGE" "$MANPAGE_BACKUP" is_our_manpage divert
  mkdir -p "$(dirname "$(D "$MANPAGE")")"
  gzip -9nc "$SRC/man/ldirectord.8" > "$(D "$MANPAGE").tmp.$$"
  chmod 0644 "$(D "$MANPAGE").tmp.$$"
  mv "$(D "$MANPAGE").tmp.$$" "$(D "$MANPAGE")"
  say "installed the man page $MANPAGE"

  if exists "$(D "$HA_LINK")" && ! [ -L "$(D "$HA_LINK")" ]; then
    set_aside "$HA_LINK" "$HA_LINK.orig" is_our_ha_link
  fi
  is_our_ha_link "$(D "$HA_LINK")" || install_link "$HA_LINK" "$SBIN"

  install_config "$SRC/system/ldirectord.service" "$UNIT" "systemd unit"
  install_config "$SRC/system/ldirectord.logrotate" "$LOGROTATE" "logrotate file"
  systemd_reload

  if [ -z "$DESTDIR" ] && compgen -G '/run/ldirectord.*.pid' >/dev/null; then
    say "a daemon is running: restart it to run the new version"
  fi
  say "done"
}

is_our_sbin() { is_our_link "$1" "$LAUNCHER"; }
is_our_ha_link() { is_our_link "$1" "$SBIN"; }

# ----------------------------------------------------------------- uninstall ----

do_uninstall() {
  local p
  if [ -z "$DESTDIR" ] && compgen -G '/run/ldirectord.*.pid' >/dev/null; then
    warn "an ldirectord daemon seems to be running; it keeps running the removed files until stopped"
  fi

  p=$(D "$SBIN")
  if is_our_sbin "$p"; then rm -f "$p"; say "removed $SBIN"; fi
  put_back "$SBIN" "$SBIN_BACKUP"

  p=$(D "$MANPAGE")
  if is_our_manpage "$p"; then rm -f "$p"; say "removed $MANPAGE"; fi
  put_back "$MANPAGE" "$MANPAGE_BACKUP"

  # The heartbeat link stays when it points at a program again (the restored original).
  p=$(D "$HA_LINK")
  if is_our_ha_link "$p" && ! exists "$(D "$SBIN")"; then rm -f "$p"; say "removed $HA_LINK"; fi
  if exists "$(D "$HA_LINK.orig")" && ! exists "$p"; then
    mv "$(D "$HA_LINK.orig")" "$p"; say "restored $HA_LINK"
  fi

  for p in "$UNIT" "$LOGROTATE"; do
    if is_our_text "$(D "$p")"; then rm -f "$(D "$p")"; say "removed $p"; fi
  done

  p=$(D "$LIBDIR")
  if is_our_libdir "$p"; then rm -rf "$p"; say "removed $LIBDIR"; fi
  systemd_reload
  say "done"
}

main() {
  parse_args "$@"
  if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
    die "installing into / needs root (sudo npm run install-system), or stage it with DESTDIR=<dir>"
  fi
  if [ "$MODE" = install ]; then do_install; else do_uninstall; fi
}

main "$@"
exit
