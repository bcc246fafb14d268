#!/usr/bin/env bash
# bench/keepalived.mjs and test/bench/keepalived-ratio.test.ts: keepalived, the peer we are
# measured against, and a C compiler with the libc and kernel headers for the LD_PRELOAD
# shim (bench/keepalived-shim/) they build from source. The package's service is not started
# here (no systemd in CI); the benches run keepalived themselves, checker-only.
set -euo pipefail
apt-get install -y -qq --no-install-recommends keepalived gcc libc6-dev linux-libc-dev >/dev/null
