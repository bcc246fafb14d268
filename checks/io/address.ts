// Address text as the probes need it: bare for sockets, bracketed inside URLs and SIP
// headers, and as 32 hex digits for the wire formats that carry IPv6 addresses.
import net from 'node:net';

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
  let a = address.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b1, b2, b3, b4] = v4.slice(1).map(Number) as [number, number, number, number];
    a = a.slice(0, v4.index) + ((b1 << 8) | b2).toString(16) + ':' + ((b3 << 8) | b4).toString(16);
  }
  const [head = '', tail] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups
    .map((g) => g.padStart(4, '0'))
    .join('')
    .toLowerCase();
}
