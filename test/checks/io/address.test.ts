import { describe, expect, it } from 'vitest';
import { bracketed, ipv6Hex, stripBrackets } from '../../../checks/io/address.js';

describe('address text for the probes', () => {
  it('ipv6Hex gives the 32 hex digits of the wire formats', () => {
    expect(ipv6Hex('::1')).toBe('00000000000000000000000000000001');
    expect(ipv6Hex('2001:DB8::a:1')).toBe('20010db80000000000000000000a0001');
    expect(ipv6Hex('::ffff:127.0.0.1')).toBe('00000000000000000000ffff7f000001');
    expect(ipv6Hex('fe80::1%eth0')).toBe('fe800000000000000000000000000001');
  });

  it('brackets IPv6 only, and strips only a whole bracketed address', () => {
    expect(bracketed('::1')).toBe('[::1]');
    expect(bracketed('127.0.0.1')).toBe('127.0.0.1');
    expect(stripBrackets('[::1]')).toBe('::1');
    expect(stripBrackets('a[::1]')).toBe('a[::1]');
  });
});
