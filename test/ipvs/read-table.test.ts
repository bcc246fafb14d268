import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IpvsadmError, ipvsadmFailure } from '../../lib/ipvs/errors.js';
import { createIpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { LISTING_COMMANDS, ListingStream, joinListings, parseListings } from '../../lib/ipvs/listing-parser.js';
import { readChangedServices, readTable, readTableOnce } from '../../lib/ipvs/read-table.js';
import { ABSENT } from '../../lib/ipvs/service-digest.js';
import { serviceKey, type IpvsTable } from '../../lib/ipvs/table.js';
import { fakeIpvsadm, type FakeIpvsadm } from '../support/fake-ipvsadm-helper.js';
import { mergeThresholds, parseListing, parseSave, parseThresholdListing } from '../support/ipvs-listing.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => readFileSync(path.join(here, 'fixtures', name), 'utf8');

/** The table of fixtures/make-fixtures.sh, as read from the real ipvsadm 1.31. */
const EXPECTED: IpvsTable = {
  services: [
    {
      protocol: 'tcp',
      family: 4,
      address: '10.0.0.1',
      port: 80,
      scheduler: 'wrr',
      ops: false,
      destinations: [
        { address: '192.168.10.200', port: 80, forward: 'gate', weight: 65536, upperThreshold: 7, lowerThreshold: 0 },
        { address: '10.0.0.2', port: 80, forward: 'gate', weight: 3, upperThreshold: 0, lowerThreshold: 0 },
        { address: '10.0.0.3', port: 8080, forward: 'masq', weight: 2, upperThreshold: 100, lowerThreshold: 10 },
        { address: '10.0.0.4', port: 80, forward: 'ipip', weight: 0, upperThreshold: 0, lowerThreshold: 0 },
      ],
    },
    {
      protocol: 'tcp',
      family: 4,
      address: '10.0.0.1',
      port: 443,
      scheduler: 'sh',
      persistent: 300,
      netmask: '255.255.255.0',
      ops: false,
      schedFlags: 'sh-port',
      destinations: [],
    },
    {
      protocol: 'tcp',
      family: 4,
      address: '10.0.0.10',
      port: 80,
      scheduler: 'mh',
      ops: false,
      schedFlags: 'mh-fallback,mh-port',
      destinations: [],
    },
    {
      protocol: 'udp',
      family: 4,
      address: '10.0.0.1',
      port: 53,
      scheduler: 'rr',
      ops: true,
      destinations: [{ address: '10.0.0.5', port: 53, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }],
    },
    {
      protocol: 'tcp',
      family: 6,
      address: '[2001:db8::1]',
      port: 80,
      scheduler: 'wlc',
      persistent: 60,
      netmask: '64',
      ops: false,
      destinations: [
        { address: '[2001:db8::2]', port: 80, forward: 'gate', weight: 4, upperThreshold: 0, lowerThreshold: 0 },
        { address: '[2001:db8::3]', port: 81, forward: 'masq', weight: 4, upperThreshold: 5, lowerThreshold: 2 },
      ],
    },
    {
      protocol: 'udp',
      family: 6,
      address: '[2001:db8::1]',
      port: 53,
      scheduler: 'wrr',
      ops: false,
      destinations: [{ address: '[2001:db8::1:0:0:53]', port: 5353, forward: 'masq', weight: 2, upperThreshold: 0, lowerThreshold: 0 }],
    },
    {
      protocol: 'fwm',
      family: 4,
      fwmark: 7,
      scheduler: 'lc',
      persistent: 360,
      ops: false,
      destinations: [
        { address: '10.0.0.6', port: 0, forward: 'gate', weight: 5, upperThreshold: 0, lowerThreshold: 0 },
        { address: '10.0.0.7', port: 80, forward: 'masq', weight: 5, upperThreshold: 0, lowerThreshold: 0 },
      ],
    },
    {
      protocol: 'fwm',
      family: 6,
      fwmark: 8,
      scheduler: 'rr',
      persistent: 30,
      netmask: '64',
      ops: false,
      destinations: [{ address: '[2001:db8::10]', port: 80, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }],
    },
  ],
};

const withoutThresholds = (t: IpvsTable): IpvsTable => ({
  services: t.services.map((s) => ({ ...s, destinations: s.destinations.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })) })),
});

describe('parsing the real ipvsadm 1.31 output (fixtures)', () => {
  it('reads -L -n and --thresholds into the full table', () => {
    const t = mergeThresholds(parseListing(fixture('list.txt')), parseThresholdListing(fixture('thresholds.txt')));
    expect(t).toEqual(EXPECTED);
  });

  it('reads both listings from one stdout, in either order', () => {
    expect(parseListings(fixture('list.txt') + fixture('thresholds.txt'))).toEqual(EXPECTED);
    expect(parseListings(fixture('thresholds.txt') + fixture('list.txt'))).toEqual(EXPECTED);
  });

  it('reads -S -n the same (without thresholds, which ipvsadm does not save)', () => {
    expect(parseSave(fixture('save.txt'))).toEqual(withoutThresholds(EXPECTED));
  });

  it('reads an empty table as empty', () => {
    const empty =
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
    const emptyThr =
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n';
    expect(parseListings(empty + emptyThr)).toEqual({ services: [] });
    expect(parseSave('')).toEqual({ services: [] });
  });
});

describe('reading only some services (a scoped convergence)', () => {
  const both = (): string => fixture('list.txt') + fixture('thresholds.txt');
  it('gives exactly the services in scope, as a full read does', () => {
    const scope = new Set(['udp:10.0.0.1:53', 'fwm6:8', 'tcp:[2001:db8::1]:80']);
    expect(parseListings(both(), scope)).toEqual({ services: EXPECTED.services.filter((s) => scope.has(serviceKey(s))) });
    expect(parseListings(both(), new Set())).toEqual({ services: [] });
    expect(parseListings(both(), new Set(['tcp:10.9.9.9:80']))).toEqual({ services: [] });
  });

  it('skips the destinations of other services unread, and still numbers the lines it reports', () => {
    const broken = both().replace('  -> 192.168.10.200:80            7 ', '  -> garbage 7 ');
    expect(() => parseListings(broken)).toThrow(/bad real server address "garbage"/);
    expect(parseListings(broken, new Set(['udp:10.0.0.1:53'])).services).toHaveLength(1);
    // an error after skipped lines names the right line
    const lines = both().split('\n');
    const at = lines.findIndex((l) => l.startsWith('  -> 10.0.0.5:53'));
    lines[at] = '  -> 10.0.0.5:53 what';
    expect(() => parseListings(lines.join('\n'), new Set(['udp:10.0.0.1:53']))).toThrow(new RegExp(`line ${at + 1}: unknown line`));
  });

  it('notices a service in scope that changed between the two listings (and only such a one)', () => {
    // parseFewer drops the last destination, of fwm6:8
    const racy = parseFewer(fixture('list.txt')) + fixture('thresholds.txt');
    expect(() => parseListings(racy, new Set(['fwm6:8']))).toThrow(/changed while it was read/);
    expect(parseListings(racy, new Set(['tcp:10.0.0.1:80'])).services).toHaveLength(1);
  });
});

describe('Local forwarding (spec §4.1, §10: the original misread it)', () => {
  it("reads Local as local, not as the previous line's method", () => {
    const t = parseListing(
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  10.0.0.1:80 wrr',
        '  -> 10.0.0.2:80                  Masq    1      0          0         ',
        '  -> 127.0.0.1:80                 Local   2      0          0         ',
      ].join('\n'),
    );
    expect(t.services[0]!.destinations.map((d) => d.forward)).toEqual(['masq', 'local']);
  });
});

describe('refusing what it does not understand', () => {
  const head =
    'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n' +
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  it.each([
    ['a line it does not know', `${head}TCP  10.0.0.1:80 wrr\nsomething else\n`, /line 5: unknown line "something else"/],
    [
      'a real server before any service',
      `${head}  -> 10.0.0.2:80                  Masq    1      0          0\n`,
      /line 4: real server outside/,
    ],
    ['unknown service flags', `${head}TCP  10.0.0.1:80 wrr persistent x\n`, /line 4: unknown service flags/],
    ['no header', 'TCP  10.0.0.1:80 wrr\n', /line 1: expected the "IP Virtual Server version" line/],
    ["ipvsadm's error text", "Can't initialize ipvs: Protocol not available\n", /line 1/],
  ])('%s', (_what, text, message) => {
    expect(() => parseListing(text)).toThrow(message);
  });

  it('does not merge listings that disagree (the table changed in between)', () => {
    const thr = parseThresholdListing(fixture('thresholds.txt'));
    const list = parseListing(fixture('list.txt'));
    const fewer = { services: list.services.slice(1) };
    expect(() => mergeThresholds(fewer, thr)).toThrow(/changed while it was read/);
  });

  it('requires exactly one listing of each kind', () => {
    expect(() => parseListings(fixture('list.txt'))).toThrow(/one plain and one thresholds listing, got 1 and 0/);
    expect(() => parseListings('junk\n' + fixture('list.txt'))).toThrow(/before any listing/);
  });

  it('refuses unknown -S lines', () => {
    expect(() => parseSave('-X foo\n')).toThrow(/line 1: unknown line/);
    expect(() => parseSave('-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n')).toThrow(/not saved before it/);
  });
});

describe('ipvsadm errors', () => {
  it('recognises a kernel without IPVS', () => {
    const e = ipvsadmFailure(
      ['-R'],
      2,
      "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
    );
    expect(e.kind).toBe('no-ipvs');
    expect(e.message).toBe('IPVS is not available: Protocol not available');
  });
  it('keeps other messages as they are', () => {
    const e = ipvsadmFailure(['-A'], 255, 'Service already exists\n');
    expect(e.kind).toBe('failed');
    expect(e.message).toBe('Service already exists');
    expect(e.details.exitCode).toBe(255);
  });
});

describe('readTable', () => {
  let fake: FakeIpvsadm;
  beforeEach(() => {
    fake = fakeIpvsadm();
  });
  afterEach(() => fake.cleanup());

  it('reads with ONE ipvsadm process running both listings', async () => {
    fake.sh('-A', '-t', '10.0.0.1:80', '-s', 'wrr');
    fake.sh('-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80', '-m', '-w', '3', '-x', '9', '-y', '4');
    const t = await readTable(fake.runner());
    expect(t).toEqual({
      services: [
        {
          protocol: 'tcp',
          family: 4,
          address: '10.0.0.1',
          port: 80,
          scheduler: 'wrr',
          ops: false,
          destinations: [{ address: '10.0.0.2', port: 80, forward: 'masq', weight: 3, upperThreshold: 9, lowerThreshold: 4 }],
        },
      ],
    });
    const calls = fake.calls();
    expect(calls.at(-1)).toEqual({ args: ['-R'], stdin: LISTING_COMMANDS });
  });

  it('reads Local destinations (as old kernels made them)', async () => {
    fake.sh('-A', '-t', '10.0.0.1:80', '-s', 'rr');
    const local = fake.inProcess({ FAKE_IPVSADM_LOCAL: '127.0.0.1' });
    await local.run(['-a', '-t', '10.0.0.1:80', '-r', '127.0.0.1:80', '-g']);
    expect((await readTable(fake.inProcess())).services[0]!.destinations[0]!.forward).toBe('local');
  });

  it('reports a kernel without IPVS as an error, never as an empty table', async () => {
    const err = await readTable(fake.runner({ FAKE_IPVSADM_NO_IPVS: '1' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsadmError);
    expect((err as IpvsadmError).kind).toBe('no-ipvs');
    expect((err as IpvsadmError).message).toBe('IPVS is not available: Protocol not available');
  });

  it('reports a missing ipvsadm', async () => {
    const err = await readTable(createIpvsadmRunner('/nonexistent/ipvsadm')).catch((e: unknown) => e);
    expect((err as IpvsadmError).kind).toBe('spawn');
    expect((err as IpvsadmError).message).toMatch(/cannot run \/nonexistent\/ipvsadm: ENOENT/);
  });

  it('reports a hung ipvsadm as a timeout', async () => {
    const runner = createIpvsadmRunner('/bin/sleep', { timeoutMs: 100 });
    const err = await runner.run(['5']).catch((e: unknown) => e);
    expect((err as IpvsadmError).kind).toBe('timeout');
  });

  it('retries when the listings disagree, then gives up', async () => {
    let n = 0;
    const list = fixture('list.txt');
    const thr = fixture('thresholds.txt');
    const racy = { path: 'x', run: async () => ({ stdout: (n++ < 1 ? parseFewer(list) : list) + thr, stderr: '', exitCode: 0 }) };
    expect(await readTable(racy)).toEqual(EXPECTED);
    const alwaysRacy = { path: 'x', run: async () => ({ stdout: parseFewer(list) + thr, stderr: '', exitCode: 0 }) };
    await expect(readTable(alwaysRacy)).rejects.toThrow(/changed while it was read/);
  });
});

describe('reading as ipvsadm prints', () => {
  const both = (): string => fixture('list.txt') + fixture('thresholds.txt');
  /** The text given to a stream in pieces of `size` characters (none split where a line ends only by chance). */
  const streamed = (text: string, size: number, scope?: ReadonlySet<string>): ListingStream => {
    const s = new ListingStream(scope);
    for (let i = 0; i < text.length; i += size) s.push(Buffer.from(text.slice(i, i + size), 'latin1'));
    return s;
  };

  it('reads the same table whatever the pieces the output comes in', () => {
    const text = both();
    const scope = new Set([serviceKey(EXPECTED.services[4]!), serviceKey(EXPECTED.services[0]!)]);
    for (const size of [1, 2, 3, 7, 13, 64, 100, 333, text.length]) {
      expect(joinListings(streamed(text, size).end()), `pieces of ${size}`).toEqual(EXPECTED);
      expect(joinListings(streamed(text, size, scope).end()), `pieces of ${size}, scoped`).toEqual(parseListings(text, scope));
    }
    // a last line without its line break counts
    expect(joinListings(streamed(text.trimEnd(), 5).end())).toEqual(EXPECTED);
  });

  it('hands what it parsed over at the end and keeps none of it (the pipe may hold the stream on)', () => {
    const s = streamed(both(), 64);
    expect(joinListings(s.end())).toEqual(EXPECTED);
    expect(s.end()).toEqual([]);
  });

  it('skips the destinations outside the scope across pieces', () => {
    const text = both();
    const scope = new Set([serviceKey(EXPECTED.services.at(-1)!)]);
    const scoped = parseListings(text, scope);
    expect(scoped.services).toHaveLength(1);
    for (let size = 1; size <= 90; size++) expect(joinListings(streamed(text, size, scope).end())).toEqual(scoped);
  });

  it('reports the line a fault is on, wherever the pieces end, and only at the end', () => {
    const lines = both().split('\n');
    lines.splice(6, 0, '  -> garbage');
    const text = lines.join('\n');
    expect(() => parseListings(text)).toThrow(/line 7: unknown line " {2}-> garbage"/);
    for (const size of [1, 4, 50, 1000]) {
      const s = streamed(text, size);
      expect(() => s.end()).toThrow(/line 7: unknown line " {2}-> garbage"/);
    }
    const cut = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n';
    expect(() => streamed(cut, 3).end()).toThrow(/line 3: expected the column titles/);
    expect(() => streamed('junk\n' + both(), 2).end()).toThrow(/line 1: expected the "IP Virtual Server version" line before any listing/);
  });

  it('reads through the program as its output arrives', async () => {
    const fake = fakeIpvsadm();
    try {
      fake.sh('-A', '-t', '10.0.0.1:80', '-s', 'wrr');
      fake.sh('-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80', '-m', '-w', '3');
      const runner = fake.runner();
      const chunks: Buffer[] = [];
      const out = await runner.run(['-R'], LISTING_COMMANDS, (c) => chunks.push(c));
      expect(out.stdout).toBe('');
      expect(Buffer.concat(chunks).toString('latin1')).toContain('10.0.0.2:80');
      expect((await readTableOnce(runner)).services[0]!.destinations[0]).toMatchObject({ address: '10.0.0.2', weight: 3 });
    } finally {
      fake.cleanup();
    }
  });

  describe("the drift check's read: only services changed since last found right are parsed", () => {
    const A = 'tcp:10.0.0.1:80';
    const B = 'tcp:10.0.0.5:80';
    let fake: FakeIpvsadm;
    beforeEach(() => {
      fake = fakeIpvsadm();
      for (const vip of ['10.0.0.1', '10.0.0.5']) {
        fake.sh('-A', '-t', `${vip}:80`, '-s', 'wrr');
        fake.sh('-a', '-t', `${vip}:80`, '-r', '10.0.0.2:80', '-m', '-w', '3');
      }
    });
    afterEach(() => fake.cleanup());
    const managed = new Set([A, B, 'tcp:10.0.0.9:80']);
    const nothing = new Set<string>();

    it('nothing known: every managed service parsed, one listed nowhere has no digest', async () => {
      const r = await readChangedServices(fake.runner(), { managed, known: new Map(), look: nothing });
      expect([...r.scope].sort()).toEqual([...managed].sort());
      expect(r.table).toEqual(await readTableOnce(fake.runner()));
      expect([...r.digests.keys()].sort()).toEqual([A, B]);
      // a runner that returns the output whole reads the same
      expect(await readChangedServices(fake.inProcess(), { managed, known: new Map(), look: nothing })).toEqual(r);
    });

    it('digests as known: nothing parsed; a service changed, or asked for, is', async () => {
      const first = await readChangedServices(fake.runner(), { managed, known: new Map(), look: nothing });
      const known = new Map([...first.digests, ['tcp:10.0.0.9:80', ABSENT]]);
      const quiet = await readChangedServices(fake.runner(), { managed, known, look: nothing });
      expect(quiet.scope.size).toBe(0);
      expect(quiet.table).toEqual({ services: [] });
      fake.sh('-e', '-t', '10.0.0.5:80', '-r', '10.0.0.2:80', '-m', '-w', '4');
      const changed = await readChangedServices(fake.runner(), { managed, known, look: new Set([A]) });
      expect([...changed.scope].sort()).toEqual([A, B]);
      expect(changed.table.services.map(serviceKey).sort()).toEqual([A, B]);
      expect(changed.table.services.find((s) => serviceKey(s) === B)!.destinations[0]).toMatchObject({ weight: 4 });
      expect(changed.digests.get(A)).toBe(first.digests.get(A));
      expect(changed.digests.get(B)).not.toBe(first.digests.get(B));
      // a threshold, a scheduler, a service deleted: each changes what is parsed
      fake.sh('-e', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80', '-m', '-w', '3', '-x', '9');
      expect([...(await readChangedServices(fake.runner(), { managed, known, look: nothing })).scope].sort()).toEqual([A, B]);
      fake.sh('-D', '-t', '10.0.0.5:80');
      const gone = await readChangedServices(fake.runner(), { managed, known: new Map([...known, [B, 0]]), look: nothing });
      expect(gone.digests.has(B)).toBe(false);
      expect(gone.scope.has(B)).toBe(true);
    });

    it('the connection counters are left out of the digests', () => {
      const listing = (active: number, inactive: number): string =>
        'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.1:80 wrr\n' +
        `  -> 10.0.0.2:80                  Masq    3      ${active}          ${inactive}         \n` +
        'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n' +
        `  -> RemoteAddress:Port\nTCP  10.0.0.1:80 wrr\n  -> 10.0.0.2:80                  0          0          ${active}          ${inactive}         \n`;
      const digest = (text: string, chunk: number): number | undefined => {
        const stream = new ListingStream(new Set(), 1, 'all');
        for (let i = 0; i < text.length; i += chunk) stream.push(Buffer.from(text.slice(i, i + chunk), 'latin1'));
        stream.end();
        return stream.digests().get(A);
      };
      const base = digest(listing(0, 0), 1 << 16);
      expect(base).toBeDefined();
      // the same whether lines come whole (bytes) or split across chunks (text)
      for (const size of [1, 7, 50]) expect(digest(listing(0, 0), size)).toBe(base);
      expect(digest(listing(12, 3405), 1 << 16)).toBe(base);
      expect(digest(listing(0, 0).replace('Masq    3', 'Masq    4'), 1 << 16)).not.toBe(base);
      expect(digest(listing(0, 0).replace('0          0          0', '0          5          0'), 1 << 16)).not.toBe(base);
    });

    it('listings that do not match, or output cut at a line end: an error, not digests', async () => {
      const whole = fake.sh('-L', '-n') + fake.sh('-L', '-n', '--thresholds');
      const lastService = whole.lastIndexOf('TCP  ');
      for (const stdout of [whole.slice(0, lastService), whole.slice(0, whole.length - 10)]) {
        const runner = { path: 'x', run: async () => ({ stdout, stderr: '', exitCode: 0 }) };
        const e = await readChangedServices(runner, { managed, known: new Map(), look: nothing }).catch((err: unknown) => err);
        expect((e as IpvsadmError).kind).toBe('parse');
      }
    });
  });

  it('reports a failed ipvsadm by its exit status, not by what it printed', async () => {
    const failing = {
      path: 'x',
      run: async (_a: readonly string[], _i?: string, onStdout?: (c: Buffer) => void) => {
        onStdout?.(Buffer.from('half a line'));
        return { stdout: '', stderr: 'Memory allocation problem\n', exitCode: 1 };
      },
    };
    const err = await readTableOnce(failing).catch((e: unknown) => e);
    expect((err as IpvsadmError).kind).toBe('failed');
    expect((err as IpvsadmError).message).toBe('Memory allocation problem');
  });
});

/** The listing without its last destination line. */
function parseFewer(list: string): string {
  const lines = list.trimEnd().split('\n');
  return lines.slice(0, -1).join('\n') + '\n';
}
