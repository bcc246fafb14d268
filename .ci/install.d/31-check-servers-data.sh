#!/usr/bin/env bash
# Real servers for the data-service checks in test/checks/ (ldap, dns, mysql, pgsql,
# radius). Each test runs its own instance in the foreground with a config generated
# into a temp dir, on a high port of a 127.0.2x.y address; the packages' own services
# are not used. openssl makes the ldaps test certificate.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# slapd asks debconf questions; with noninteractive it takes the defaults.
apt-get install -y -qq --no-install-recommends \
  slapd ldap-utils dnsmasq-base mariadb-server postgresql freeradius openssl >/dev/null
# Debian starts packaged daemons on install when an init system is present. None of
# the tests' ports is theirs, but stop them so that they hold no memory or ports.
for s in slapd mariadb postgresql freeradius; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$s" 2>/dev/null; then
    systemctl stop "$s" || true
  elif [ ! -d /run/systemd/system ] && [ -x "/etc/init.d/$s" ]; then
    "/etc/init.d/$s" stop >/dev/null 2>&1 || true
  fi
done
