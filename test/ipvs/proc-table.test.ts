// /proc/net/ip_vs: the service keys of its lines, its canonical form (recorded from the
// real kernel, fixtures/ipvs-proc/), the bounded read of its digest, and the fake ipvsadm's
// rendering.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContentDigest } from '../../lib/content-digest.js';
import { canonicalIpvsProc, defaultIpvsProcFile, digestIpvsProc, procServiceKeys, ProcTableError } from '../../lib/ipvs/proc-table.js';
import { fakeIpvsadm, type FakeIpvsadm } from '../support/fake-ipvsadm-helper.js';

const FIXTURES = new URL('../../fixtures/ipvs-proc/', import.meta.url).pathname;
const KERNEL = readFileSync(path.join(FIXTURES, 'kernel-6.1.txt'), 'latin1');
const ALL = new Set([
  'tcp:10.1.2.3:80',
  'udp:10.1.2.3:53',
  'tcp:10.1.2.4:443',
  'tcp:[2001:db8::1]:80',
  'tcp:[2001:db8::2]:81',
  'fwm:7',
  'fwm6:8',
  'fwm:9',
  'tcp:10.9.9.9:80',
]);
const canonical = (text: string, managed: ReadonlySet<string> = ALL): string =>
  canonicalIpvsProc(Buffer.from(text, 'latin1'), managed).toString('latin1');

describe('procServiceKeys', () => {
  it('names the service of each kind of line the kernel printed', () => {
    const services = KERNEL.split('\n').filter((l) => l !== '' && !l.startsWith(' ') && !/^(IP Virtual|Prot)/.test(l));
    expect(services.map((l) => procServiceKeys(l))).toEqual([
      ['udp:10.1.2.3:53'],
      ['tcp:10.1.2.3:80'],
      ['tcp:10.9.9.9:80'],
      ['tcp:10.1.2.4:443'],
      ['tcp:[2001:db8::2]:81'],
      ['tcp:[2001:db8::1]:80'],
      ['fwm:7', 'fwm6:7'],
      ['fwm:7', 'fwm6:7'],
      ['fwm:8', 'fwm6:8'],
      ['fwm:9', 'fwm6:9'],
    ]);
  });

  it('knows other protocols as never managed, and no key for what is not a service line', () => {
    expect(procServiceKeys('ESP  0A000001:0000 rr  ')).toEqual([]);
    expect(procServiceKeys('TCP  10.0.0.1:80 rr  ')).toBeUndefined();
    expect(procServiceKeys('garbage')).toBeUndefined();
  });
});

describe('canonicalIpvsProc', () => {
  it('keeps service lines and destinations up to the weight, without the counters', () => {
    const c = canonical(KERNEL);
    expect(c.split('\n').slice(0, 6)).toEqual([
      'UDP  0A010203:0035 rr  persistent 30000 FFFFFF00',
      '  -> C0A80114:0035      Masq    1',
      'TCP  0A010203:0050 wlc  ',
      '  -> C0A8010C:0050      Tunnel  100',
      '  -> C0A8010B:1F90      Masq    0',
      '  -> C0A8010A:0050      Route   5',
    ]);
    expect(c).toContain('  -> [2001:0db8:0000:0001:0000:0000:0000:000a]:0050      Masq    3\n');
    expect(c).not.toContain('IP Virtual Server');
  });

  it('is blind to the connection counters, not to a weight, a forward method or a removed real', () => {
    const base = canonical(KERNEL);
    expect(canonical(KERNEL.replace('Route   5      0          0', 'Route   5      17         4023'))).toBe(base);
    expect(canonical(KERNEL.replace('Route   5      0', 'Route   6      0'))).not.toBe(base);
    expect(canonical(KERNEL.replace('C0A8010B:1F90      Masq ', 'C0A8010B:1F90      Route'))).not.toBe(base);
    expect(canonical(KERNEL.replace(/ {2}-> C0A8010B:1F90 .*\n/, ''))).not.toBe(base);
    expect(canonical(KERNEL.replace('wlc  ', 'rr  '))).not.toBe(base);
  });

  it('looks at the managed services only (an fwmark line counts when either family is managed)', () => {
    const only = new Set(['tcp:10.1.2.3:80', 'fwm6:8']);
    const c = canonical(KERNEL, only);
    expect(c).toBe(
      'TCP  0A010203:0050 wlc  \n' +
        '  -> C0A8010C:0050      Tunnel  100\n' +
        '  -> C0A8010B:1F90      Masq    0\n' +
        '  -> C0A8010A:0050      Route   5\n' +
        'FWM  00000008 lc \n' +
        '  -> [2001:0db8:0000:0000:0000:0000:0000:0008]:0000      Route   1\n',
    );
    // an unmanaged service changing changes nothing here
    expect(canonical(KERNEL.replace('Masq    2      0', 'Masq    9      0'), only)).toBe(c);
    expect(canonical(KERNEL.replace(/UDP .*\n.*\n/, ''), only)).toBe(c);
  });

  it('refuses what the kernel does not print', () => {
    const bad =
      (t: string): (() => string) =>
      () =>
        canonical(t);
    expect(bad('')).toThrow(ProcTableError);
    expect(bad(KERNEL.replace('Prot LocalAddress', 'Proto LocalAddress'))).toThrow(/column titles/);
    expect(bad(KERNEL.replace('UDP  0A010203:0035', 'UDP  10.1.2.3:53'))).toThrow(/virtual service line/);
    expect(bad(KERNEL.replace('Masq    1      0          0', 'Masq    1      0'))).toThrow(/real server line/);
    const [head, body] = [KERNEL.split('\n').slice(0, 3).join('\n'), '  -> C0A80114:0035      Masq    1      0          0\n'];
    expect(bad(`${head}\n${body}`)).toThrow(/outside any virtual service/);
  });
});

describe('digestIpvsProc', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  // the canonical form's digest taken in one piece; the read takes it window by window
  const whole = (b: Buffer): number => new ContentDigest().update(b).digest();
  const file = (text: string): string => {
    dir ??= mkdtempSync(path.join(tmpdir(), 'proc-table-'));
    const f = path.join(dir, `ip_vs.${Math.random()}`);
    writeFileSync(f, text, 'latin1');
    return f;
  };
  // far more than the 64 KiB the file is read through, so that lines straddle each window
  const reals = (n: number, weight = 1): string =>
    Array.from(
      { length: n },
      (_, i) =>
        `  -> C0A8${(i >> 8).toString(16).padStart(2, '0').toUpperCase()}${(i & 255).toString(16).padStart(2, '0').toUpperCase()}:0035      Masq    ${weight}      ${i % 7}          0         \n`,
    ).join('');
  const big = (weight = 1): string => `${KERNEL}UDP  0A090909:0035 rr  \n${reals(20_000, weight)}`;
  const managed = new Set([...ALL, 'udp:10.9.9.9:53']);

  it('the digest of the canonical form of a file of any size, read to its end', async () => {
    const text = big();
    expect(text.length).toBeGreaterThan(1 << 20);
    const want = whole(canonicalIpvsProc(Buffer.from(text, 'latin1'), managed));
    expect(await digestIpvsProc(file(text), managed)).toBe(want);
    // without the last newline, as with it
    expect(await digestIpvsProc(file(text.slice(0, -1)), managed)).toBe(want);
    // the counters aside, the same; one weight changed, another
    const busier = big().replace(/ {6}\d+ {10}0 {9}\n/g, '      9          9         \n');
    expect(busier).not.toBe(big());
    expect(await digestIpvsProc(file(busier), managed)).toBe(want);
    const heavier = big().replace(/(\n {2}-> C0A84E1F:0035 {6}Masq {4})1/, '$12');
    expect(heavier).not.toBe(big());
    expect(await digestIpvsProc(file(heavier), managed)).not.toBe(want);
    // a service the daemon does not manage is left out of the form, and so of the digest
    expect(await digestIpvsProc(file(heavier), ALL)).toBe(await digestIpvsProc(file(text), ALL));
  });

  it('refuses a file beyond the bound, one that is missing, one the kernel did not print', async () => {
    await expect(digestIpvsProc(file(big()), managed, { maxBytes: 1 << 17 })).rejects.toThrow(/larger than/);
    dir ??= mkdtempSync(path.join(tmpdir(), 'proc-table-'));
    await expect(digestIpvsProc(path.join(dir, 'none'), managed)).rejects.toThrow(/ENOENT/);
    await expect(digestIpvsProc(file(`${big()}garbage\n`), managed)).rejects.toThrow(ProcTableError);
    await expect(digestIpvsProc(file(`${KERNEL}TCP  0A090909:0050 rr  ${' '.repeat(70_000)}\n`), managed)).rejects.toThrow(
      /line \d+: longer than 65536 bytes/,
    );
    await expect(digestIpvsProc(file(''), managed)).rejects.toThrow(/incomplete/);
  });

  it('the kernel file unless the test-only variable names another', () => {
    expect(defaultIpvsProcFile({})).toBe('/proc/net/ip_vs');
    expect(defaultIpvsProcFile({ LDIRECTORD_TEST_IPVS_PROC: '/tmp/x' })).toBe('/tmp/x');
  });
});

describe('the fake ipvsadm /proc/net/ip_vs', () => {
  let fake: FakeIpvsadm | undefined;
  afterEach(() => fake?.cleanup());

  it('prints, after the same commands, the lines the kernel printed', () => {
    fake = fakeIpvsadm();
    const commands = readFileSync(path.join(FIXTURES, 'kernel-6.1.commands'), 'utf8').split('\n').filter(Boolean);
    for (const c of commands) fake.sh(...c.split(' '));
    // services come in hash order from the kernel, in the fake's own order here
    const blocks = (t: string): string[] =>
      t
        .split(/\n(?! {2}-> )/)
        .filter((b) => b !== '')
        .sort();
    expect(blocks(readFileSync(fake.procPath, 'latin1'))).toEqual(blocks(KERNEL));
  });
});
