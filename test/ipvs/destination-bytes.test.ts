// Destination lines read from their bytes (lib/ipvs/destination-bytes.ts) must read as the
// text path reads them: the same table for every line it takes, and every other line left to
// the text path, which reads it or reports it as before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainDestination, thresholdDestination } from '../../lib/ipvs/destination-bytes.js';
import { ListingScanner, ListingStream, joinListings } from '../../lib/ipvs/listing-parser.js';
import type { IpvsTable } from '../../lib/ipvs/table.js';

const PLAIN_HEAD = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  'TCP  10.0.0.1:80 wrr',
];
const THRESHOLD_HEAD = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ',
  '  -> RemoteAddress:Port',
  'TCP  10.0.0.1:80 wrr',
];

type Outcome = { table: IpvsTable } | { error: string };

function outcome(read: () => IpvsTable): Outcome {
  try {
    return { table: read() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Line by line as text: the path every line took before. */
const asText = (lines: readonly string[]): Outcome =>
  outcome(() => {
    const s = new ListingScanner();
    for (const l of lines) s.line(l);
    return joinListings(s.end());
  });

/** As ipvsadm's output arrives: whole lines in one chunk, so destination lines go through their bytes. */
const asBytes = (lines: readonly string[]): Outcome =>
  outcome(() => {
    const s = new ListingStream();
    s.push(Buffer.from(lines.join('\n') + '\n', 'latin1'));
    return joinListings(s.end());
  });

const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('00', '010', '256', '1000', ''));
const address = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
      )
      .map((q) => q.join('.')),
  },
  { weight: 1, arbitrary: fc.array(octet, { minLength: 3, maxLength: 5 }).map((q) => q.join('.')) },
  { weight: 1, arbitrary: fc.constantFrom('[2001:db8::1]', '[::ffff:10.0.0.1]', 'host', '10.0.0.1x', '') },
);
const port = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 65535 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('080', '65536', '123456', '', '8o', '00000') },
);
const spaces = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 12 }).map((n) => ' '.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('', '\t', ' \t') },
);
const number = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('007', '9007199254740993', '123456789012345', '1234567890123456', '', '1a', '-1') },
);
const forward = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Route', 'Masq', 'Tunnel', 'Local') },
  { weight: 1, arbitrary: fc.constantFrom('Masqx', 'masq', 'Rout', '') },
);
const end = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', '         ') },
  { weight: 1, arbitrary: fc.constantFrom('\r', ' x', ' 0') },
);
const colon = fc.oneof({ weight: 6, arbitrary: fc.constant(':') }, { weight: 1, arbitrary: fc.constantFrom('', '::', ' :') });

const plainLine = fc
  .tuple(address, colon, port, spaces, forward, spaces, number, spaces, number, spaces, number, end)
  .map((p) => `  -> ${p.join('')}`);
const thresholdLine = fc
  .tuple(address, colon, port, spaces, number, spaces, number, spaces, number, spaces, number, end)
  .map((p) => `  -> ${p.join('')}`);

describe('destination lines read from their bytes', () => {
  it('-L -n: the same table or the same error as read as text, for any line', () => {
    fc.assert(
      fc.property(fc.array(plainLine, { minLength: 1, maxLength: 4 }), (dests) => {
        const lines = [
          ...PLAIN_HEAD,
          ...dests,
          ...THRESHOLD_HEAD,
          ...dests.map((d) => d.replace(/(Route|Masq|Tunnel|Local)/, '0          0')),
        ];
        expect(asBytes(lines)).toEqual(asText(lines));
      }),
      { numRuns: 2000 },
    );
  });

  it('--thresholds: the same table or the same error as read as text, for any line', () => {
    fc.assert(
      fc.property(fc.array(thresholdLine, { minLength: 1, maxLength: 4 }), (dests) => {
        const plain = dests.map((d) => d.replace(/^( {2}-> \S+ +)/, '$1Masq    '));
        const lines = [...PLAIN_HEAD, ...plain, ...THRESHOLD_HEAD, ...dests];
        expect(asBytes(lines)).toEqual(asText(lines));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the lines of an IPv4 table, and leaves the rest to the text path', () => {
    const bytes = (l: string): Buffer => Buffer.from(l, 'latin1');
    const line = '  -> 10.0.0.3:8080                Masq    2      0          0         ';
    expect(plainDestination(bytes(line), 0, line.length)).toEqual({
      address: '10.0.0.3',
      port: 8080,
      forward: 'masq',
      weight: 2,
      upperThreshold: 0,
      lowerThreshold: 0,
    });
    const thr = '  -> 10.0.0.3:8080                100        10         0          0         ';
    expect(thresholdDestination(bytes(thr), 0, thr.length)).toEqual({ address: '10.0.0.3', port: 8080, upper: 100, lower: 10 });
    for (const other of [
      '  -> [2001:db8::2]:80             Masq    1      0          0',
      '  -> 010.0.0.3:80                 Masq    1      0          0',
      '  -> 10.0.0.3:80                  Masq    1      0          0\r',
    ]) {
      expect(plainDestination(bytes(other), 0, other.length), other).toBeUndefined();
    }
  });
});
