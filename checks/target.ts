// From a virtual and one of its reals to the CheckTarget a checker probes (spec §3.2):
// the check port rule and per-real request/receive.
import { isIP } from 'node:net';
import type { RealServer, VirtualService } from '../lib/config/model.js';
import { stripBrackets } from './io/address.js';
import { defaultPortFor } from './registry.js';
import { hasOwnRequest } from './request.js';
import type { CheckTarget } from './types.js';

/** checkport if set; else the real's port if > 0; else the service's default port (0 if it has none). */
export function checkPortFor(virtual: VirtualService, real: RealServer): number {
  if (virtual.checkport !== undefined) return virtual.checkport;
  if (real.port > 0) return real.port;
  return defaultPortFor(virtual.service) ?? 0;
}

export function buildTarget(virtual: VirtualService, real: RealServer): CheckTarget {
  const own = hasOwnRequest(real);
  const host = stripBrackets(real.ip);
  return {
    virtual,
    real,
    host,
    family: isIP(host),
    port: checkPortFor(virtual, real),
    request: own ? (real.request as string) : virtual.request,
    receive: own ? (real.receive as string) : virtual.receive,
  };
}
