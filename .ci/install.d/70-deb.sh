#!/usr/bin/env bash
# The Debian package (test/package/deb.test.ts): dpkg-deb and dpkg-shlibdeps (dpkg-dev),
# strip (binutils), lintian, mmdebstrap for the clean Debian 12 and 13 roots and the
# archive keys that sign them.
set -euo pipefail
apt-get install -y -qq --no-install-recommends dpkg-dev binutils lintian mmdebstrap \
  debian-archive-keyring openssl xz-utils util-linux >/dev/null
