#!/usr/bin/env bash
# test/sync/ and test/checks/ssh.test.ts start a real OpenSSH server (/usr/sbin/sshd) on a
# loopback address with a generated config and host key; ssh-keygen makes the keys.
# Installed without its service being started (policy-rc.d), so that no sshd listens on
# port 22 of the CI machine. /run/sshd is sshd's privilege-separation directory.
set -euo pipefail
if [ ! -x /usr/sbin/sshd ]; then
  policy=/usr/sbin/policy-rc.d
  created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created=1
  fi
  apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
  if [ "$created" = 1 ]; then rm -f "$policy"; fi
fi
mkdir -p /run/sshd
chmod 0755 /run/sshd
