// Which request and receive a check uses (spec §2.5): a real's own "request","receive"
// pair overrides the virtual's, and only as a pair.
import type { RealServer } from '../lib/config/model.js';

/** True when the real line carried its own "request","receive" pair (they override the virtual's). */
export function hasOwnRequest(real: RealServer): boolean {
  return real.request !== undefined && real.receive !== undefined;
}

/** Drops one leading '/' (requests are stored with one, spec §2.3). */
export function withoutSlash(request: string): string {
  return request.startsWith('/') ? request.slice(1) : request;
}
