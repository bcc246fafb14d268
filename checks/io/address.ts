// Address text as the probes need it: bare for sockets, bracketed inside URLs and SIP
// headers, and as 32 hex digits for the wire formats that carry IPv6 addresses.
import net from 'node:net';
import { parseIPv6 } from '../../lib/config/ip-address.js';

/** `[2001:db8::1]` -> `2001:db8::1`; IPv4 unchanged. */
export function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/** `host` as it appears inside a URL or a SIP Via header: IPv6 in brackets. */
export function bracketed(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** The 32 hex digits of an IPv6 address (`::1` -> `000...01`); dotted IPv4 tails allowed. */
export function ipv6Hex(address: string): string {
  // A socket's own address, the only input, always parses; zeros keep a bad one harmless.
  const words = parseIPv6(address.replace(/%.*$/, '')) ?? new Array<number>(8).fill(0);
  return words.map((w) => w.toString(16).padStart(4, '0')).join('');
}
