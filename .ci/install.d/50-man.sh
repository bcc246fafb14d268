#!/usr/bin/env bash
# The man page test (test/integration/manpage.test.ts) renders man/ldirectord.8 with groff
# and man(1) and reads its NAME section with lexgrog; the install test
# (test/integration/install-system.test.ts) uses gzip, dpkg-divert (dpkg, always there on
# Debian) and pgrep.
set -euo pipefail
apt-get install -y -qq --no-install-recommends groff-base man-db gzip procps >/dev/null
