#!/usr/bin/env bash
# The original Perl ldirectord (differential tests) and the real ipvsadm.
set -euo pipefail
apt-get install -y -qq --no-install-recommends ldirectord ipvsadm >/dev/null
# The OCF agent ocf:heartbeat:ldirectord and ocf-tester (which validates metadata with xmllint).
apt-get install -y -qq --no-install-recommends resource-agents libxml2-utils procps >/dev/null
