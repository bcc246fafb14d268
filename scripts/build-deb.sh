#!/usr/bin/env bash
# Builds the Debian package ldirectord-ts_<version>_<arch>.deb (run by `npm run deb`,
# after `npm run build`) with dpkg-deb. The package replaces Debian's ldirectord:
#
#   /usr/sbin/ldirectord -> /usr/lib/ldirectord-ts/bin/ldirectord
#   /usr/lib/ldirectord-ts/             bin/, dist/ (no source maps), man/, package.json,
#                                       the production node_modules (no native addons),
#                                       node/bin/node: the private Node.js runtime
#   /lib/systemd/system/ldirectord.service, /etc/logrotate.d/ldirectord (system/)
#   /etc/init.d/ldirectord, /etc/default/ldirectord (packaging/debian/)
#   /etc/ha.d/resource.d/ldirectord -> /usr/sbin/ldirectord
#   /usr/share/man/man8/ldirectord.8.gz
#   /usr/share/doc/ldirectord-ts/       copyright, changelog.gz, examples/ldirectord.cf
#
# The program's files are laid out by scripts/install-system.sh (staged with --destdir),
# the same installation as `npm run install-system`; this script adds what a package
# has and an installation from a checkout does not, and takes away what does not run.
#
#   scripts/build-deb.sh [--out DIR]     (default: the repository's root)
#
# The Node runtime is the npm registry's node-linux-<arch> package named in
# packaging/debian/node-runtime, fetched with `npm pack` and checked against the
# integrity recorded there; it is kept in ~/.cache/ldirectord-ts/node-runtime.
set -euo pipefail

die() { printf 'build-deb: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'build-deb: %s\n' "$*"; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PKG=$SRC/packaging/debian
OUT=$SRC
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift ;;
    --out=*) OUT=${1#*=} ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)

for tool in dpkg-deb dpkg-shlibdeps strip npm gzip openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install dpkg-dev binutils openssl)"
done
[ -f "$SRC/dist/lib/cli/main.cjs" ] || die "dist/ is not built: run npm run build first"

VERSION=$(node -p 'require(process.argv[1]).version' "$SRC/package.json")
CHANGELOG_VERSION=$(sed -n '1s/^ldirectord-ts (\([^)]*\)).*/\1/p' "$PKG/changelog")
[ "$VERSION" = "$CHANGELOG_VERSION" ] || die "package.json says $VERSION, packaging/debian/changelog says $CHANGELOG_VERSION"
ARCH=$(dpkg --print-architecture)
read -r _ NODE_PKG NODE_VERSION NODE_INTEGRITY < <(awk -v a="$ARCH" '$1 == a' "$PKG/node-runtime") \
  || die "no Node runtime for $ARCH in packaging/debian/node-runtime"

LIBDIR=/usr/lib/ldirectord-ts
NODE=$LIBDIR/node/bin/node
DOC=/usr/share/doc/ldirectord-ts

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ldirectord-ts-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
umask 022

# ------------------------------------------------------------ Node runtime ----

fetch_runtime() {
  local cache=${LDIRECTORD_TS_CACHE:-$HOME/.cache/ldirectord-ts}/node-runtime
  local tgz=$cache/$NODE_PKG-$NODE_VERSION.tgz
  mkdir -p "$cache"
  if [ ! -s "$tgz" ]; then
    say "fetching $NODE_PKG@$NODE_VERSION from the npm registry"
    (cd "$WORK" && npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null)
    mv "$WORK/$NODE_PKG-$NODE_VERSION.tgz" "$tgz"
  fi
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [ "$got" = "$NODE_INTEGRITY" ] || die "$tgz: integrity $got, expected $NODE_INTEGRITY"
  mkdir -p "$WORK/runtime"
  tar -xzf "$tgz" -C "$WORK/runtime" package/bin/node package/LICENSE
  RUNTIME=$WORK/runtime/package
  # Official builds carry full debug information (~10 MB); a Debian package strips it.
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$RUNTIME/bin/node"
  "$RUNTIME/bin/node" -e 'process.exit(process.versions.node === process.argv[1] ? 0 : 1)' "$NODE_VERSION" \
    || die "the stripped $NODE_PKG does not run"
}

# --------------------------------------------------------------- the files ----

stage_program() {
  # The installation `npm run install-system` makes, staged; the #! line is then pointed
  # at the packaged runtime.
  bash "$SRC/scripts/install-system.sh" --destdir="$ROOT" --prefix=/usr --sysconfdir=/etc \
    --unitdir=/lib/systemd/system --node="$RUNTIME/bin/node" --no-divert >/dev/null
  local lib=$ROOT$LIBDIR
  sed -i "1s|^\(#!\(/usr/bin/env -S \([A-Za-z_][A-Za-z0-9_]*=[^ ]* \)*\)\{0,1\}\)$RUNTIME/bin/node|\1$NODE|" "$lib/bin/ldirectord"
  # Relative within /usr (Debian policy 10.5); the OCF agent matches the link's own path.
  ln -sfn ../lib/ldirectord-ts/bin/ldirectord "$ROOT/usr/sbin/ldirectord"
  head -n1 "$lib/bin/ldirectord" | grep -q "^#!\(/usr/bin/env -S \([A-Za-z_][A-Za-z0-9_]*=[^ ]* \)*\)\{0,1\}$NODE\( \|\$\)" \
    || die "bin/ldirectord: #! line not rewritten"

  # Not run: the installer, the lock file, the README, the unit and logrotate copies
  # (installed in place), source maps.
  rm -rf "$lib/scripts" "$lib/system" "$lib/package-lock.json" "$lib/README.md"
  find "$lib/dist" -name '*.map' -delete

  prune_node_modules "$lib/node_modules"

  install -D -m 0755 "$RUNTIME/bin/node" "$ROOT$NODE"

  install -D -m 0755 "$PKG/ldirectord.init" "$ROOT/etc/init.d/ldirectord"
  install -D -m 0644 "$PKG/ldirectord.default" "$ROOT/etc/default/ldirectord"

  install -D -m 0644 "$PKG/ldirectord.cf" "$ROOT$DOC/examples/ldirectord.cf"
  gzip -9nc "$PKG/changelog" > "$ROOT$DOC/changelog.gz"
  make_copyright > "$ROOT$DOC/copyright"
  install -D -m 0644 "$PKG/lintian-overrides" "$ROOT/usr/share/lintian/overrides/ldirectord-ts"
}

# What the daemon does not load: type declarations, documentation, tests, sources of
# compiled parts, and every native addon. The addons are optional accelerators (ssh2's
# crypto binding, cpu-features) that their packages load in a try, and oracledb's
# prebuilt Thick-mode binaries for other systems: the oracle check runs oracledb in its
# pure-JavaScript Thin mode, which needs no Oracle client library.
prune_node_modules() {
  local nm=$1
  rm -rf "$nm/@types" "$nm/cpu-features" "$nm/nan" "$nm/buildcheck"
  find "$nm" -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name doc \
      -o -name example -o -name examples -o -name .github -o -name obj.target \) -prune -exec rm -rf {} +
  find "$nm" -type d -path '*/build/Release' -prune -exec rm -rf {} +
  find "$nm" -type f \( -name '*.node' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
      -o -name '*.map' -o -name '*.md' -o -name '*.markdown' -o -name '*.gyp' -o -name '*.gypi' \
      -o -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name 'Makefile' -o -name '.npmignore' \
      -o -name '.eslintrc*' -o -name '.travis.yml' -o -name '.editorconfig' -o -name '*.tsbuildinfo' \
      -o -name '*.ts' \) -delete
  # Command-line entry points (package.json "bin") are for npm to link; nothing runs them.
  node -e '
    const fs = require("fs"), path = require("path");
    const nm = process.argv[1];
    const walk = (dir) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const d = path.join(dir, e.name);
        if (e.name.startsWith("@")) { walk(d); continue; }
        const pj = path.join(d, "package.json");
        if (fs.existsSync(pj)) {
          const bin = JSON.parse(fs.readFileSync(pj, "utf8")).bin;
          const files = typeof bin === "string" ? [bin] : Object.values(bin || {});
          for (const f of files) fs.rmSync(path.join(d, f), { force: true });
        }
        if (fs.existsSync(path.join(d, "node_modules"))) walk(path.join(d, "node_modules"));
      }
    };
    walk(nm);
  ' "$nm"
  # Nothing left is run as a program: modules are read by node.
  find "$nm" -type f -perm /111 -exec chmod a-x {} +
  find "$nm" -type d -empty -delete
}

# Debian's machine-readable copyright: ours, Node's, and one paragraph per bundled npm
# package with the licence its package.json declares and its own licence file.
make_copyright() {
  cat "$PKG/copyright.in"
  printf '\nFiles: usr/lib/ldirectord-ts/node/*\nCopyright: Node.js contributors and others\nLicense: Expat and others\n Node.js and the libraries built into it; the full text of each licence is\n in /usr/share/doc/ldirectord-ts/LICENSE.node.gz.\n'
  node -e '
    const fs = require("fs"), path = require("path");
    const nm = process.argv[1];
    const dirs = [];
    for (const d of fs.readdirSync(nm).sort()) {
      if (d.startsWith(".")) continue;
      if (d.startsWith("@")) for (const s of fs.readdirSync(path.join(nm, d)).sort()) dirs.push(`${d}/${s}`);
      else dirs.push(d);
    }
    for (const d of dirs) {
      const pj = JSON.parse(fs.readFileSync(path.join(nm, d, "package.json"), "utf8"));
      const lic = typeof pj.license === "string" ? pj.license : (pj.license && pj.license.type) || "see the package";
      const file = fs.readdirSync(path.join(nm, d)).find((f) => /^(licen[cs]e|copying)/i.test(f));
      const author = typeof pj.author === "string" ? pj.author : (pj.author && pj.author.name) || `${pj.name} authors`;
      process.stdout.write(`\nFiles: usr/lib/ldirectord-ts/node_modules/${d}/*\nCopyright: ${author}\nLicense: ${lic}\n`);
      process.stdout.write(file
        ? ` The full text is in /usr/lib/ldirectord-ts/node_modules/${d}/${file}.\n`
        : ` ${pj.name} ${pj.version} states this licence in its package.json.\n`);
    }
  ' "$ROOT$LIBDIR/node_modules"
  printf '\nLicense: GPL-2+\n On Debian systems, the full text of the GNU General Public License version 2\n can be found in the file /usr/share/common-licenses/GPL-2.\n'
}

# ----------------------------------------------------------------- control ----

shlib_depends() {
  # dpkg-shlibdeps wants a debian/control of a source package around it.
  mkdir -p "$WORK/shlibs/debian"
  printf 'Source: ldirectord-ts\n\nPackage: ldirectord-ts\nArchitecture: any\n' > "$WORK/shlibs/debian/control"
  (cd "$WORK/shlibs" && dpkg-shlibdeps -O "-e$ROOT$NODE" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

make_control() {
  local deb=$ROOT/DEBIAN shlibs size maintainer
  mkdir -p "$deb"
  shlibs=$(shlib_depends)
  [ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies for node"
  size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
  maintainer=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$PKG/changelog" | head -n1)
  sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@INSTALLED_SIZE@|$size|" \
      -e "s|@SHLIBS@|$shlibs|" -e "s|@MAINTAINER@|$maintainer|" "$PKG/control.in" > "$deb/control"
  local s
  for s in postinst prerm postrm; do install -m 0755 "$PKG/$s" "$deb/$s"; done
  # Conffiles: the admin's edits survive upgrades. /etc/ha.d/ldirectord.cf is not one of
  # ours: the package never ships nor touches the admin's configuration.
  printf '%s\n' /etc/default/ldirectord /etc/init.d/ldirectord /etc/logrotate.d/ldirectord > "$deb/conffiles"
  (cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum) > "$deb/md5sums"
  chmod 0644 "$deb/control" "$deb/conffiles" "$deb/md5sums"
}

main() {
  fetch_runtime
  stage_program
  # The Node runtime's licences (Node and every library built into it).
  gzip -9nc "$RUNTIME/LICENSE" > "$ROOT$DOC/LICENSE.node.gz"
  find "$ROOT" -type d -exec chmod 0755 {} +
  find "$ROOT" -type f ! -perm /111 -exec chmod 0644 {} +
  make_control
  local deb=$OUT/ldirectord-ts_${VERSION}_${ARCH}.deb
  # Reproducible: every file dated from the changelog's entry.
  local epoch
  epoch=$(date -d "$(sed -n 's/^ -- .*>  //p' "$PKG/changelog" | head -n1)" +%s)
  find "$ROOT" -exec touch -h -d "@$epoch" {} +
  SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$deb" >/dev/null
  say "built $deb ($(du -k "$deb" | cut -f1) KiB, installed $(sed -n 's/^Installed-Size: //p' "$ROOT/DEBIAN/control") KiB)"
}

main
