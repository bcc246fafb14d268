// Readers for the directives ldirectord-ts adds (successcount, slowstart,
// statusaddress). The original has no such directives, so there is no old
// leniency to keep: values are read strictly and a bad one is an error with
// its line, like every other directive.
import { isIPv4, isIPv6 } from './ip-literal.js';
import type { StatusAddress } from './model.js';

export type Read<T> = { value: T } | { error: string };

export const EXTENSION_MSG = {
  invalidSuccessCount: 'invalid success count: a whole number from 1 up is required',
  invalidSlowStart: 'invalid slow start time: a whole number of seconds from 0 (off) to 86400 is required',
  invalidStatusAddress: (v: string) =>
    `invalid status address "${v}": write PORT, ADDRESS:PORT or [IPV6-ADDRESS]:PORT with a numeric address and a port from 1 to 65535`,
} as const;

/** A day: longer ramps are surely a typo (seconds taken for minutes, say). */
export const MAX_SLOWSTART = 86_400;
/** Bounds the state a real keeps; far beyond any sensible rise threshold. */
export const MAX_SUCCESSCOUNT = 1_000_000;

export function readSuccessCount(value: string): Read<number> {
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  return n >= 1 && n <= MAX_SUCCESSCOUNT ? { value: n } : { error: EXTENSION_MSG.invalidSuccessCount };
}

export function readSlowStart(value: string): Read<number> {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  return n >= 0 && n <= MAX_SLOWSTART ? { value: n } : { error: EXTENSION_MSG.invalidSlowStart };
}

/**
 * `PORT` (loopback: the listener shows the daemon's state, so it is not exposed
 * unless the admin names an address), `a.b.c.d:PORT` or `[v6]:PORT`. Numeric
 * addresses only: a name could resolve differently at each reload.
 */
export function readStatusAddress(value: string): Read<StatusAddress> {
  const bad = { error: EXTENSION_MSG.invalidStatusAddress(value) };
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):)?(\d{1,5})$/.exec(value);
  if (!m) return bad;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return bad;
  if (m[1] !== undefined) return isIPv6(m[1]) ? { value: { host: m[1], port, family: 6 } } : bad;
  if (m[2] !== undefined) return isIPv4(m[2]) ? { value: { host: m[2], port, family: 4 } } : bad;
  return { value: { host: '127.0.0.1', port, family: 4 } };
}

/** `127.0.0.1:9101`, `[::1]:9101`: how log lines and the status show the address. */
export function formatStatusAddress(a: StatusAddress): string {
  return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
