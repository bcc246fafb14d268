// Name and port resolution as the original does it: getaddrinfo(3) restricted to
// the block's address family, first answer wins, IPv6 printed canonically in
// brackets; ports by number (0..65535) or by /etc/services name.
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

/** inet_ntop(3)'s form of an IPv6 address: lower case, longest zero run (2+ groups) as '::'. */
export function canonicalIPv6(address: string): string {
  let text = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    text = text.slice(0, v4.index) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const nums = groups.map((g) => parseInt(g, 16));
  if (nums.length !== 8 || nums.some((n) => Number.isNaN(n))) return address;
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (nums[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && nums[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = nums.map((n) => n.toString(16));
  // Mapped and compatible IPv4 addresses print their last 32 bits as a dotted quad.
  const mapped = best === 0 && (bestLen === 5 && nums[5] === 0xffff || bestLen === 6 && nums[6] !== 0);
  if (mapped) {
    const quad = `${nums[6]! >> 8}.${nums[6]! & 255}.${nums[7]! >> 8}.${nums[7]! & 255}`;
    return bestLen === 5 ? `::ffff:${quad}` : `::${quad}`;
  }
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Brackets IPv6 addresses the way the original's ld_gethostbyname returns them. */
export function addressText(address: string, family: Family): string {
  return family === 6 ? `[${address}]` : address;
}

export function stripBrackets(host: string): string {
  const m = /\[(.*)\]/.exec(host);
  return m ? m[1]! : host;
}

/**
 * All lookups one parse needs, done up front and concurrently so the rest of the
 * parser stays synchronous. Literal IPv4 addresses in canonical form skip the
 * resolver (the common case: 10,000 reals must parse fast).
 */
export class NameCache {
  private readonly pending = new Map<string, Promise<string | null>>();
  private readonly done = new Map<string, string | null>();

  constructor(private readonly resolver: HostResolver) {}

  private key(name: string, family: Family): string {
    return `${family}|${name}`;
  }

  want(host: string, family: Family): void {
    const name = stripBrackets(host);
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
    const name = stripBrackets(host);
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
