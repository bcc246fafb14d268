#!/usr/bin/env bash
# Real servers for the web/mail/ftp/ping/external checks in test/checks/ (run in the
# foreground by each test with its own temp config; the packages' services are not used).
set -euo pipefail
apt-get install -y -qq --no-install-recommends \
  nginx dovecot-imapd dovecot-pop3d vsftpd openssl iputils-ping perl ca-certificates >/dev/null
# Debian starts packaged daemons on install when an init system is present; the tests
# run their own instances on 127.0.1x.y high ports, so stop the packaged ones if running.
for s in nginx dovecot vsftpd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$s" 2>/dev/null; then
    systemctl stop "$s" || true
  fi
done
