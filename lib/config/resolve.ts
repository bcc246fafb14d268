// Name and port resolution as the original does it: getaddrinfo(3) restricted to
// the block's address family, first answer wins, IPv6 printed canonically in
// brackets; ports by number (0..65535) or by /etc/services name.
import { canonicalIPv6 } from './ip-address.js';
import { isIP } from './ip-literal.js';
import type { Family } from './model.js';
import { getServiceByName } from './services-db.js';

/** Resolves one host name; returns the address without brackets, or null. */
export type HostResolver = (name: string, family: Family) => Promise<string | null>;

export const systemResolver: HostResolver = async (name, family) => {
  // Node answers literals itself, whatever family was asked: getaddrinfo with
  // AF_INET/AF_INET6 (and no V4MAPPED) only returns a literal of that family.
  const literal = isIP(name);
  if (literal !== 0) return literal === family ? name : null;
  try {
    // Loaded on first use: most configs name addresses, not hosts (see cli/main.ts).
    const r = await process.getBuiltinModule('node:dns/promises').lookup(name, { family, verbatim: true });
    return r.address;
  } catch {
    return null;
  }
};

/** Brackets IPv6 addresses the way the original's ld_gethostbyname returns them. */
export function addressText(address: string, family: Family): string {
  return family === 6 ? `[${address}]` : address;
}

/** The text inside the first `[...]` anywhere in `host`, as the original's parser takes it. */
export function insideBrackets(host: string): string {
  const m = /\[(.*)\]/.exec(host);
  return m ? m[1]! : host;
}

/**
 * All lookups one parse needs, done up front and concurrently so the rest of the
 * parser stays synchronous. Literal IPv4 addresses in canonical form skip the
 * resolver: they are the common case, and configs with thousands of reals must parse fast.
 */
export class NameCache {
  private readonly pending = new Map<string, Promise<string | null>>();
  private readonly done = new Map<string, string | null>();

  constructor(private readonly resolver: HostResolver) {}

  private key(name: string, family: Family): string {
    return `${family}|${name}`;
  }

  want(host: string, family: Family): void {
    const name = insideBrackets(host);
    if (family === 4 && isIP(name) === 4 && !/(^|\.)0\d/.test(name)) return;
    const k = this.key(name, family);
    if (this.pending.has(k)) return;
    this.pending.set(
      k,
      this.resolver(name, family).then((a) => {
        this.done.set(k, a);
        return a;
      }),
    );
  }

  async settle(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  /** Synchronous after settle(): the bracketed-if-IPv6 address, or null. */
  get(host: string, family: Family): string | null {
    const name = insideBrackets(host);
    if (family === 4 && isIP(name) === 4 && !/(^|\.)0\d/.test(name)) return name;
    const a = this.done.get(this.key(name, family));
    if (a === undefined || a === null) return null;
    return addressText(family === 6 ? canonicalIPv6(a) : a, family);
  }
}

/** ld_getservbyname: numbers 0..65535 as they are, names through /etc/services. */
export function resolvePort(name: string, protocol: string): number | undefined {
  if (/^[0-9]+$/.test(name)) {
    const n = Number(name);
    return n >= 0 && n < 65536 ? n : undefined;
  }
  return getServiceByName(name, protocol);
}
