#!/usr/bin/env bash
# The daemon's own helpers and what test/daemon/ needs:
# - bsdutils: logger(1), which lib/log/syslog.ts runs to send syslog datagrams
#   (Essential on Debian, listed so a slimmed image still gets it);
# - python3: binds the unix datagram socket that receives them in test/log/log.test.ts
#   (Node has no AF_UNIX SOCK_DGRAM sockets).
set -euo pipefail
apt-get install -y -qq --no-install-recommends bsdutils python3 >/dev/null
