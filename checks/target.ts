// From a virtual and one of its reals to the CheckTarget a checker probes (spec §3.2):
// the check port rule, per-real request/receive, and the services' default ports.
import type { RealServer, Service, VirtualService } from '../lib/config/model.js';
import type { CheckTarget } from './types.js';

/** Service -> default port: the spec §2.6 table read right to left (ld_service_to_port). */
export const SERVICE_DEFAULT_PORTS: Readonly<Partial<Record<Service, number>>> = {
  ftp: 21,
  ssh: 22, // extension: never derived from a virtual's port (see SERVICES)
  smtp: 25,
  dns: 53,
  http: 80,
  pop: 110,
  nntp: 119,
  imap: 143,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pops: 995,
  oracle: 1521,
  radius: 1812,
  http_proxy: 3128,
  mysql: 3306,
  sip: 5060,
  pgsql: 5432,
};

/** The default port of a service; undefined for none and simpletcp. */
export function defaultPortFor(service: Service): number | undefined {
  return SERVICE_DEFAULT_PORTS[service];
}

/** checkport if set; else the real's port if > 0; else the service's default port (0 if it has none). */
export function checkPortFor(virtual: VirtualService, real: RealServer): number {
  if (virtual.checkport !== undefined) return virtual.checkport;
  if (real.port > 0) return real.port;
  return defaultPortFor(virtual.service) ?? 0;
}

/** `[2001:db8::1]` -> `2001:db8::1`; IPv4 unchanged. */
export function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/** True when the real line carried its own "request","receive" pair (they override the virtual's). */
export function hasOwnRequest(real: RealServer): boolean {
  return real.request !== undefined && real.receive !== undefined;
}

export function buildTarget(virtual: VirtualService, real: RealServer): CheckTarget {
  const own = hasOwnRequest(real);
  return {
    virtual,
    real,
    host: stripBrackets(real.ip),
    port: checkPortFor(virtual, real),
    request: own ? (real.request as string) : virtual.request,
    receive: own ? (real.receive as string) : virtual.receive,
  };
}
