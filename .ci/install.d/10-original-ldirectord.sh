#!/usr/bin/env bash
# The original Perl ldirectord (differential tests) and the real ipvsadm.
set -euo pipefail
apt-get install -y -qq --no-install-recommends ldirectord ipvsadm >/dev/null
