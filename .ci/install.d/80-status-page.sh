#!/usr/bin/env bash
# The status page's tests: test/status/page-browser.test.ts loads the page in Debian's
# chromium (headless, driven over --remote-debugging-pipe), with a font to draw its
# screenshots; test/status/contrib.test.ts checks contrib/prometheus/alerts.yml with
# promtool, which comes with the prometheus package. That package's init script would
# start a Prometheus server on install: a policy-rc.d that refuses every service start
# (when the image has none of its own) keeps it from running on the CI machine.
set -euo pipefail
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core prometheus >/dev/null
