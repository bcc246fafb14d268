// The registry: checker name -> Checker, the one list of every checker. Names are the
// checktypes that probe on their own (connect, ping, external, external-perl, on, off)
// and the services that checktype=negotiate runs (http, smtp, ldap, ...). To add a
// checker, write its file (one checker family per file, declared with defineChecker)
// and list it here. The services' default ports are read from these declarations.
import { SERVICES, type Service, type VirtualService } from '../lib/config/model.js';
import type { CombinedStep } from './combined.js';
import { connectChecker } from './connect.js';
import { dnsChecker, dnsConnectChecker } from './dns.js';
import { externalPerlChecker } from './external-perl.js';
import { externalChecker } from './external.js';
import { ftpChecker } from './ftp.js';
import { httpChecker, httpProxyChecker, httpsChecker } from './http.js';
import { imapChecker, imapsChecker } from './imap.js';
import { ldapCheckerPlain, ldapsChecker } from './ldap.js';
import { mysqlChecker } from './mysql.js';
import { nntpChecker } from './nntp.js';
import { noneChecker } from './none.js';
import { oracleChecker } from './oracle.js';
import { pgsqlChecker } from './pgsql.js';
import { pingChecker } from './ping.js';
import { popChecker, popsChecker } from './pop.js';
import { radiusChecker } from './radius.js';
import { simpletcpChecker } from './simpletcp.js';
import { sipChecker } from './sip.js';
import { smtpServiceChecker, submissionChecker } from './smtp.js';
import { sshChecker } from './ssh.js';
import { offChecker, onChecker } from './static.js';
import type { Checker } from './types.js';

const ALL_CHECKERS: readonly Checker[] = [
  // check types
  connectChecker,
  pingChecker,
  externalChecker,
  externalPerlChecker,
  onChecker,
  offChecker,
  // services (spec §3.3), and ssh, an extension
  noneChecker,
  httpChecker,
  httpsChecker,
  httpProxyChecker,
  ftpChecker,
  smtpServiceChecker,
  submissionChecker,
  popChecker,
  popsChecker,
  imapChecker,
  imapsChecker,
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

/** Builds a registry, refusing two checkers with one name. */
export function buildRegistry(checkers: readonly Checker[]): ReadonlyMap<string, Checker> {
  const map = new Map<string, Checker>();
  for (const checker of checkers) {
    if (map.has(checker.name)) throw new Error(`two checkers are named "${checker.name}"`);
    map.set(checker.name, checker);
  }
  return map;
}

export const CHECKERS: ReadonlyMap<string, Checker> = buildRegistry(ALL_CHECKERS);

export function getChecker(name: string): Checker | undefined {
  return CHECKERS.get(name);
}

/** The checker of checktype=negotiate for a service. */
export function serviceChecker(service: Service, registry: ReadonlyMap<string, Checker> = CHECKERS): Checker | undefined {
  return registry.get(service);
}

/** Service -> default check port, as the services' checkers declare it (spec §2.6, right to left). */
export const SERVICE_DEFAULT_PORTS: Readonly<Partial<Record<Service, number>>> = Object.fromEntries(
  SERVICES.flatMap((service) => {
    const port = CHECKERS.get(service)?.defaultPort;
    return port === undefined ? [] : [[service, port]];
  }),
);

/** The default port of a service; undefined for none and simpletcp. */
export function defaultPortFor(service: Service): number | undefined {
  return SERVICE_DEFAULT_PORTS[service];
}

/**
 * The checker the runner calls for a virtual's next probe. `step` is required for
 * combined checktypes (see combined.ts). A connect check (plain or combined) on a udp
 * virtual runs the service check instead (spec §10: on UDP a connect proves nothing;
 * the original pinged for checktype=connect and "connected" for combined).
 */
export function selectChecker(
  virtual: VirtualService,
  step?: CombinedStep,
  registry: ReadonlyMap<string, Checker> = CHECKERS,
): Checker | undefined {
  const kind = virtual.checktype.kind;
  switch (kind) {
    case 'negotiate':
      return serviceChecker(virtual.service, registry);
    case 'connect':
      return connectOrService(virtual, registry);
    case 'combined':
      if (step === undefined) throw new Error('selectChecker: a combined checktype needs the step');
      return step === 'negotiate' ? serviceChecker(virtual.service, registry) : connectOrService(virtual, registry);
    default:
      return registry.get(kind);
  }
}

/** The connect step's checker (a function, not a closure per call: this runs for every check). */
function connectOrService(virtual: VirtualService, registry: ReadonlyMap<string, Checker>): Checker | undefined {
  if (virtual.protocol !== 'udp') return registry.get('connect');
  // dns: the check still passes without a receive (see createDnsConnectChecker).
  return virtual.service === 'dns' ? registry.get('dns-connect') : serviceChecker(virtual.service, registry);
}
