// The data-service checkers (spec §3.3): nntp, ldap, ldaps, dns, radius, mysql, pgsql,
// oracle, sip, simpletcp; and ssh, an extension. checks/registry.ts adds them to the registry.
import type { Checker } from './types.js';
import { dnsChecker, dnsConnectChecker } from './dns.js';
import { ldapCheckerPlain, ldapsChecker } from './ldap.js';
import { nntpChecker } from './nntp.js';
import { radiusChecker } from './radius.js';
import { simpletcpChecker } from './simpletcp.js';
import { sipChecker } from './sip.js';
import { sshChecker } from './ssh.js';
import { mysqlChecker, oracleChecker, pgsqlChecker } from './sql.js';

export const DATA_CHECKERS: Checker[] = [
  nntpChecker,
  ldapCheckerPlain,
  ldapsChecker,
  dnsChecker,
  dnsConnectChecker,
  radiusChecker,
  mysqlChecker,
  pgsqlChecker,
  oracleChecker,
  sipChecker,
  simpletcpChecker,
  sshChecker,
];
