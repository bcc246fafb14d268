// The IPVS table as ldirectord-ts sees it: virtual services and their destinations
// (real servers), with the canonical keys and the normalisation rules that make a table
// read back from ipvsadm compare equal to the table that was asked for.
//
// Addresses are kept as ipvsadm prints them with -n: `10.0.0.1` and `[2001:db8::1]`
// (glibc inet_ntop form, lower case, in brackets), which is also the config model's
// AddressText form.
import { formatIPv6, parseIPv4, parseIPv6 } from '../config/ip-address.js';
import { ownCopy } from '../v8-strings.js';

/** `sctp` is only ever read (a service some other tool made); ldirectord has no sctp virtuals. */
export type IpvsProtocol = 'tcp' | 'udp' | 'sctp' | 'fwm';
/**
 * `local` is the kernel's LOCALNODE method. ipvsadm lists it as "Local" (`-L`) but saves
 * it as `-g`, and no ipvsadm option sets it: it is only ever read, never written.
 */
export type IpvsForward = 'gate' | 'masq' | 'ipip' | 'local';
export type IpvsFamily = 4 | 6;

/** What names a virtual service in the kernel. */
export interface IpvsServiceId {
  readonly protocol: IpvsProtocol;
  readonly family: IpvsFamily;
  /** Address services only: `10.0.0.1` or `[2001:db8::1]`. */
  readonly address?: string;
  /** Address services only. */
  readonly port?: number;
  /** fwm only (> 0). */
  readonly fwmark?: number;
}

/** What `ipvsadm -A/-E` sets on a virtual service. */
export interface IpvsServiceOptions {
  readonly scheduler: string;
  /** Persistence timeout in seconds; undefined when not persistent. */
  readonly persistent?: number;
  /**
   * Persistence granularity: a dotted quad for IPv4, a prefix length for IPv6. Undefined
   * means the default (/32 or /128); only meaningful (and only kept) when persistent.
   */
  readonly netmask?: string;
  /** One-packet scheduling (`-o`). */
  readonly ops: boolean;
  /** Scheduler flags as ipvsadm prints them (`sh-fallback,sh-port`); undefined when none. */
  readonly schedFlags?: string;
  /** Persistence engine (`--pe sip`); never set by ldirectord, only read. */
  readonly pe?: string;
}

export interface IpvsDestination {
  /** `10.0.0.2` or `[2001:db8::2]`. */
  readonly address: string;
  readonly port: number;
  readonly forward: IpvsForward;
  readonly weight: number;
  /** `-x`; 0 = no limit. */
  readonly upperThreshold: number;
  /** `-y`; 0 = no limit. */
  readonly lowerThreshold: number;
}

export interface IpvsService extends IpvsServiceId, IpvsServiceOptions {
  readonly destinations: readonly IpvsDestination[];
}

export interface IpvsTable {
  readonly services: readonly IpvsService[];
}

export const EMPTY_TABLE: IpvsTable = Object.freeze({ services: Object.freeze([]) as readonly IpvsService[] });

// ------------------------------------------------------------------------- keys ----

/**
 * The service key, in the config model's virtual-id form (`VirtualService.id`):
 * `tcp:10.0.0.1:80`, `udp:[2001:db8::1]:53`, `fwm:7`, `fwm6:8`.
 */
export function serviceKey(id: IpvsServiceId): string {
  if (id.protocol === 'fwm') return `fwm${id.family === 6 ? '6' : ''}:${id.fwmark}`;
  return `${id.protocol}:${id.address}:${id.port}`;
}

/** How log lines name a virtual (the original's get_virtual): `10.0.0.1:80`, `[::1]:80` or `7`. */
export function serviceLabel(id: IpvsServiceId): string {
  return id.protocol === 'fwm' ? String(id.fwmark) : `${id.address}:${id.port}`;
}

/** `10.0.0.2:80` / `[2001:db8::2]:80`: the destination key inside one service (as ipvsadm prints it). */
export function destinationKey(d: { readonly address: string; readonly port: number }): string {
  return addressPortKey(d.address, d.port);
}

/** destinationKey() of an address and a port that are not held in one object. */
export function addressPortKey(address: string, port: number): string {
  return `${address}:${port}`;
}

/** The service part of `ipvsadm` arguments: `-t a:p`, `-u a:p`, `-f m` or `-f m -6`. */
export function serviceArgs(id: IpvsServiceId): string[] {
  switch (id.protocol) {
    case 'tcp':
      return ['-t', `${id.address}:${id.port}`];
    case 'udp':
      return ['-u', `${id.address}:${id.port}`];
    case 'sctp':
      return ['--sctp-service', `${id.address}:${id.port}`];
    case 'fwm':
      return id.family === 6 ? ['-f', String(id.fwmark), '-6'] : ['-f', String(id.fwmark)];
  }
}

/** Only the identifying fields of a service (drops options and destinations). */
export function serviceIdOf(s: IpvsServiceId): IpvsServiceId {
  return s.protocol === 'fwm'
    ? { protocol: 'fwm', family: s.family, fwmark: s.fwmark! }
    : { protocol: s.protocol, family: s.family, address: s.address!, port: s.port! };
}

// -------------------------------------------------------------- addresses ----

/**
 * An address in ipvsadm's printed form: `10.0.0.1` or `[2001:db8::1]`, from any of
 * `10.0.0.1`, `2001:DB8:0::1`, `[2001:db8::1]`. Undefined when it is not an IP address.
 */
export function canonicalAddress(text: string): Readonly<{ family: IpvsFamily; address: string }> | undefined {
  // A dotted quad already in its canonical form, nearly every address of an IPv4 config, is
  // told so by one scan: a cache entry for each (a key, a result and its string; about 1 MB
  // at 10,000 reals) would cost more than the scan saves.
  if (isCanonicalIPv4(text)) return { family: 4, address: text.length > SHORT_STRING ? ownCopy(text) : text };
  // Memoised: every convergence canonicalises every configured and listed address again,
  // and the same texts come back each time, so a bounded map, emptied when full, keeps
  // nearly every hit.
  if (canonicalCache.has(text)) return canonicalCache.get(text);
  const result = canonicalAddressUncached(text);
  if (canonicalCache.size >= CANONICAL_CACHE_MAX) canonicalCache.clear();
  canonicalCache.set(ownCopy(text), result);
  return result;
}

/**
 * V8 copies a slice up to this long and makes a longer one a view that keeps its whole
 * parent alive (a listing's line, say): a longer address is copied before it is kept.
 */
const SHORT_STRING = 12;

/** `a.b.c.d`, each 0-255 in decimal without a leading zero: what parseIPv4() would print back. */
export function isCanonicalIPv4(text: string): boolean {
  if (text.length < 7 || text.length > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a '.' after the last part
    if (c === 46) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3) return false;
    } else return false;
  }
  return parts === 4;
}

const CANONICAL_CACHE_MAX = 1 << 17;
const canonicalCache = new Map<string, Readonly<{ family: IpvsFamily; address: string }> | undefined>();

function canonicalAddressUncached(text: string): Readonly<{ family: IpvsFamily; address: string }> | undefined {
  const v4 = parseIPv4(text);
  if (v4) return Object.freeze({ family: 4, address: v4.join('.') });
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v6 = parseIPv6(inner);
  if (v6) return Object.freeze({ family: 6, address: `[${formatIPv6(v6)}]` });
  return undefined;
}

/**
 * Splits `10.0.0.1:80` / `[2001:db8::1]:80` into canonical address and port: an address in
 * brackets, or one without a colon or bracket, then a colon and 1-5 digits up to 65535.
 * Without a regular expression, and the address through canonicalAddress()'s cache: a
 * table read splits every destination of two listings.
 */
export function parseAddressPort(text: string): { family: IpvsFamily; address: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  const digits = text.length - colon - 1;
  if (colon < 1 || digits < 1 || digits > 5) return undefined;
  let port = 0;
  for (let i = colon + 1; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    port = port * 10 + d;
  }
  if (port > 65535) return undefined;
  const host = text.slice(0, colon);
  const bracketed = host.charCodeAt(0) === 91; // [
  if (bracketed ? host.length < 3 || host.indexOf(']') !== host.length - 1 : /[:[\]]/.test(host)) return undefined;
  // without brackets the text has no colon, so only an IPv4 address can come out
  const a = canonicalAddress(host);
  if (!a || (bracketed && a.family !== 6)) return undefined;
  return { family: a.family, address: a.address, port };
}

// ---------------------------------------------------------- normalisation ----

const SCHED_FLAG_BITS: Readonly<Record<string, number>> = {
  'flag-1': 1,
  'sh-fallback': 1,
  'mh-fallback': 1,
  'flag-2': 2,
  'sh-port': 2,
  'mh-port': 2,
  'flag-3': 4,
};

/**
 * Scheduler flags as ipvsadm prints them back for this scheduler (`-b flag-1,flag-2` on
 * `sh` reads back as `sh-fallback,sh-port`). Flags ipvsadm would reject are returned as
 * written, so that the command reaches ipvsadm and its error is reported.
 */
export function canonicalSchedFlags(scheduler: string, flags: string | undefined): string | undefined {
  if (flags === undefined || flags === '') return undefined;
  let bits = 0;
  for (const f of flags.split(',')) {
    const bit = SCHED_FLAG_BITS[f];
    const needs = f.startsWith('sh-') ? 'sh' : f.startsWith('mh-') ? 'mh' : undefined;
    if (bit === undefined || (needs !== undefined && needs !== scheduler)) return flags;
    bits |= bit;
  }
  const names: Array<[number, string]> =
    scheduler === 'sh'
      ? [
          [1, 'sh-fallback'],
          [2, 'sh-port'],
        ]
      : scheduler === 'mh'
        ? [
            [1, 'mh-fallback'],
            [2, 'mh-port'],
          ]
        : [
            [1, 'flag-1'],
            [2, 'flag-2'],
            [4, 'flag-3'],
          ];
  const out = names
    .filter(([b]) => bits & b)
    .map(([, n]) => n)
    .join(',');
  return out === '' ? undefined : out;
}

/** The persistence netmask as ipvsadm prints it back, undefined for the default or when not persistent. */
export function canonicalNetmask(family: IpvsFamily, persistent: number | undefined, netmask: string | undefined): string | undefined {
  if (persistent === undefined || netmask === undefined || netmask === '') return undefined;
  if (family === 6) {
    if (!/^\d+$/.test(netmask)) return netmask;
    const n = Number(netmask);
    return n === 128 ? undefined : String(n);
  }
  const q = parseIPv4(netmask);
  if (!q) return netmask;
  const text = q.join('.');
  return text === '255.255.255.255' ? undefined : text;
}

/**
 * The port the kernel stores for a destination: ipvsadm replaces the port of a gate or
 * ipip destination by the service's port on address services (spec §4.2), so
 * `-r 1.2.3.4:0 -g` on `10.0.0.1:80` is listed as `1.2.3.4:80`.
 */
export function storedDestinationPort(service: IpvsServiceId, forward: IpvsForward, port: number): number {
  if (service.protocol !== 'fwm' && (forward === 'gate' || forward === 'ipip')) return service.port!;
  return port;
}

function portsStored(s: IpvsService): boolean {
  for (const d of s.destinations) if (storedDestinationPort(s, d.forward, d.port) !== d.port) return false;
  return true;
}

/** A service with every field in the form ipvsadm reads it back (ports mapped, flags and netmask canonical). */
export function normalizeService(s: IpvsService): IpvsService {
  const schedFlags = canonicalSchedFlags(s.scheduler, s.schedFlags);
  const netmask = canonicalNetmask(s.family, s.persistent, s.netmask);
  // What ipvsadm listed, and what the config asks for in most cases, is in this form
  // already: no copy of the service and its destinations (a whole-table convergence
  // normalises every service of both tables).
  if (schedFlags === s.schedFlags && netmask === s.netmask && s.pe !== '' && portsStored(s)) return s;
  const out: IpvsService = {
    ...serviceIdOf(s),
    scheduler: s.scheduler,
    ...(s.persistent !== undefined ? { persistent: s.persistent } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
    ops: s.ops,
    ...(schedFlags !== undefined ? { schedFlags } : {}),
    ...(s.pe !== undefined && s.pe !== '' ? { pe: s.pe } : {}),
    destinations: s.destinations.map((d) => {
      const port = storedDestinationPort(s, d.forward, d.port);
      return port === d.port ? d : { ...d, port };
    }),
  };
  return out;
}

// --------------------------------------------------------------- compare ----

/** True when `-E` would not change anything. */
export function sameServiceOptions(a: IpvsServiceOptions, b: IpvsServiceOptions): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.persistent === b.persistent &&
    (a.persistent === undefined || a.netmask === b.netmask) &&
    a.ops === b.ops &&
    (a.schedFlags ?? '') === (b.schedFlags ?? '') &&
    (a.pe ?? '') === (b.pe ?? '')
  );
}

/**
 * True when the kernel entry `current` already is what `desired` asks for. A `local`
 * entry satisfies `gate`: ipvsadm itself saves LOCALNODE as `-g`, and old kernels
 * switched local destinations to LOCALNODE on their own.
 */
export function sameDestination(current: IpvsDestination, desired: IpvsDestination): boolean {
  const gateLike = (f: IpvsForward): boolean => f === 'gate' || f === 'local';
  const fwdOk = current.forward === desired.forward || (gateLike(current.forward) && gateLike(desired.forward));
  return (
    fwdOk &&
    current.weight === desired.weight &&
    current.upperThreshold === desired.upperThreshold &&
    current.lowerThreshold === desired.lowerThreshold
  );
}

/** Services by key. */
export function indexServices(table: IpvsTable): Map<string, IpvsService> {
  const m = new Map<string, IpvsService>();
  for (const s of table.services) m.set(serviceKey(s), s);
  return m;
}

/**
 * `table` with the services whose keys `scope` holds taken from `part` instead (a scoped
 * read): replaced in place, dropped when `part` lacks them, appended when new.
 */
export function replaceServices(table: IpvsTable, part: IpvsTable, scope: ReadonlySet<string>): IpvsTable {
  const fresh = indexServices(part);
  const services: IpvsService[] = [];
  for (const s of table.services) {
    const k = serviceKey(s);
    if (!scope.has(k)) services.push(s);
    else if (fresh.has(k)) {
      services.push(fresh.get(k)!);
      fresh.delete(k);
    }
  }
  for (const [k, s] of fresh) if (scope.has(k)) services.push(s);
  return { services };
}

/** Destinations of one service by key. */
export function indexDestinations(service: { readonly destinations: readonly IpvsDestination[] }): Map<string, IpvsDestination> {
  const m = new Map<string, IpvsDestination>();
  for (const d of service.destinations) m.set(destinationKey(d), d);
  return m;
}
