// lib/config/ip-literal.ts keeps node:net out of the CLI's start (bench/RESULTS.md, status):
// it must answer exactly as node:net does, on the addresses configs hold and on garbage.
import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIP, isIPv4, isIPv6 } from '../../lib/config/ip-literal.js';

const same = (s: string): void => {
  expect([isIP(s), isIPv4(s), isIPv6(s)], JSON.stringify(s)).toEqual([net.isIP(s), net.isIPv4(s), net.isIPv6(s)]);
};

describe('isIP, isIPv4, isIPv6 as node:net', () => {
  it('on hand-picked literals and near misses', () => {
    for (const s of [
      '',
      '0.0.0.0',
      '255.255.255.255',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3',
      '1.2.3.4.5',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '1.2.3.4\n',
      '::',
      '::1',
      '[::1]',
      '::ffff:1.2.3.4',
      'fe80::1%eth0',
      'fe80::1%',
      '2001:db8::',
      '2001:db8:0:0:0:0:0:1',
      '2001:db8:0:0:0:0:0:0:1',
      '1:2:3:4:5:6:7::',
      '1::2::3',
      'gggg::1',
      '12345::1',
      '::1.2.3.4',
      '1:2:3:4:5:6:1.2.3.4',
      'localhost',
      '10.0.0.1:80',
      'a.b.c.d',
    ])
      same(s);
  });

  it('on generated strings', () => {
    const ipish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg.:%[] '), maxLength: 45 });
    fc.assert(
      fc.property(fc.oneof(ipish, fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string()), (s) => same(s)),
      { numRuns: 5000 },
    );
  });
});
