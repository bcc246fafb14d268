#!/usr/bin/env bash
# test/differential/: the original checks IPv6 http reals through Net::INET6Glue, which the
# ldirectord package does not pull in; without it the original dies at its first IPv6 http check.
set -euo pipefail
apt-get install -y -qq --no-install-recommends libnet-inet6glue-perl >/dev/null
