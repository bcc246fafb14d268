import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandArgs } from '../../lib/ipvs/commands.js';
import { converge, IpvsReconciler } from '../../lib/ipvs/converge.js';
import { formatCommandLine } from '../../lib/ipvs/ipvsadm-runner.js';
import { LISTING_COMMANDS } from '../../lib/ipvs/listing-parser.js';
import { locateIpvsadm } from '../../lib/ipvs/locate.js';
import { serviceKey, type IpvsService, type IpvsTable } from '../../lib/ipvs/table.js';
import { fakeIpvsadm, type FakeIpvsadm } from '../support/fake-ipvsadm-helper.js';
import { parseSave } from '../support/ipvs-listing.js';

describe('locateIpvsadm (spec §1.5)', () => {
  const fs = (files: string[]) => ({ isFile: (p: string) => files.includes(p), isExecutable: (p: string) => files.includes(p) });
  it('prefers /sbin/ipvsadm, then /usr/sbin/ipvsadm', () => {
    expect(locateIpvsadm(fs(['/sbin/ipvsadm', '/usr/sbin/ipvsadm']))).toBe('/sbin/ipvsadm');
    expect(locateIpvsadm(fs(['/usr/sbin/ipvsadm']))).toBe('/usr/sbin/ipvsadm');
    expect(locateIpvsadm(fs([]))).toBeUndefined();
  });
  it('takes ./ipvsadm first in debug mode only', () => {
    const files = fs(['/tmp/x/ipvsadm', '/sbin/ipvsadm']);
    expect(locateIpvsadm({ ...files, debug: true, cwd: '/tmp/x' })).toBe('/tmp/x/ipvsadm');
    expect(locateIpvsadm({ ...files, debug: false, cwd: '/tmp/x' })).toBe('/sbin/ipvsadm');
    expect(locateIpvsadm({ ...files, debug: true, cwd: '/tmp/y' })).toBe('/sbin/ipvsadm');
  });
  it('formats a command line for logs', () => {
    expect(formatCommandLine('/sbin/ipvsadm', ['-D', '-f', '7'])).toBe('/sbin/ipvsadm -D -f 7');
  });
});

const V1 = { protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 } as const;
const V2 = { protocol: 'udp', family: 4, address: '10.0.0.1', port: 53 } as const;
const dest = (address: string, weight = 1, forward: 'gate' | 'masq' = 'masq', port = 80) => ({
  address,
  port,
  forward,
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
});
const WANT: IpvsTable = {
  services: [
    { ...V1, scheduler: 'wrr', ops: false, destinations: [dest('10.0.0.2', 2), dest('10.0.0.3', 1, 'gate', 0)] },
    { ...V2, scheduler: 'rr', ops: true, destinations: [dest('10.0.0.5', 1, 'masq', 53)] },
  ],
};
const MANAGED = WANT.services.map(serviceKey);

describe('converge on the fake ipvsadm', () => {
  let fake: FakeIpvsadm;
  beforeEach(() => {
    fake = fakeIpvsadm();
  });
  afterEach(() => fake.cleanup());

  it('builds the table from empty with one read and one batch that also reads back (through the program)', async () => {
    const r = await converge(fake.runner(), WANT, MANAGED);
    expect(r).toMatchObject({ ok: true, passes: 1, runs: 2, failures: [], remaining: [], batchStderr: '' });
    expect(r.applied).toEqual(r.planned);
    expect(fake.sh('-S', '-n')).toBe(
      [
        '-A -t 10.0.0.1:80 -s wrr',
        '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 2',
        '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1',
        '-A -u 10.0.0.1:53 -s rr -o',
        '-a -u 10.0.0.1:53 -r 10.0.0.5:53 -m -w 1',
        '',
      ].join('\n'),
    );
    const calls = fake.calls();
    expect(calls.map((c) => c.args)).toEqual([['-R'], ['-R'], ['-S', '-n']]);
    expect(calls[1]!.stdin).toBe(r.planned.map((c) => commandArgs(c).join(' ')).join('\n') + '\n' + LISTING_COMMANDS);
  });

  it('does nothing but read when the table is right', async () => {
    await converge(fake.inProcess(), WANT, MANAGED);
    const r = await converge(fake.inProcess(), WANT, MANAGED);
    expect(r).toMatchObject({ ok: true, passes: 0, runs: 1, planned: [] });
  });

  it('repairs drift: a cleared table, a real deleted and a weight changed by hand', async () => {
    await converge(fake.inProcess(), WANT, MANAGED);
    fake.sh('-d', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80');
    fake.sh('-e', '-u', '10.0.0.1:53', '-r', '10.0.0.5:53', '-m', '-w', '7');
    const r1 = await converge(fake.inProcess(), WANT, MANAGED);
    expect(r1.ok).toBe(true);
    expect(r1.planned.map((c) => commandArgs(c).join(' '))).toEqual([
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 2 -x 0 -y 0',
      '-e -u 10.0.0.1:53 -r 10.0.0.5:53 -m -w 1 -x 0 -y 0',
    ]);
    fake.sh('-C');
    const r2 = await converge(fake.inProcess(), WANT, MANAGED);
    expect(r2.ok).toBe(true);
    expect(r2.planned).toHaveLength(5);
  });

  it('never touches unmanaged services', async () => {
    fake.sh('-A', '-t', '192.168.1.1:80', '-s', 'lc');
    fake.sh('-a', '-t', '192.168.1.1:80', '-r', '192.168.1.2:80', '-m', '-w', '9', '-x', '5', '-y', '1');
    fake.sh('-A', '-f', '99', '-s', 'rr');
    const before = fake.sh('-L', '-n', '--thresholds');
    const r = await converge(fake.inProcess(), WANT, MANAGED);
    expect(r.ok).toBe(true);
    const unmanaged = (t: IpvsTable): IpvsService[] => t.services.filter((s) => !MANAGED.includes(serviceKey(s)));
    expect(unmanaged(r.after!)).toEqual(unmanaged(r.before!));
    expect(fake.sh('-L', '-n', '--thresholds')).toContain(before.split('\n').slice(3, 5).join('\n'));
  });

  it('drops a managed service that is no longer desired', async () => {
    await converge(fake.inProcess(), WANT, MANAGED);
    const r = await converge(fake.inProcess(), { services: [WANT.services[0]!] }, MANAGED);
    expect(r.ok).toBe(true);
    expect(r.planned.map((c) => commandArgs(c).join(' '))).toEqual(['-D -u 10.0.0.1:53']);
    expect(parseSave(fake.sh('-S', '-n')).services.map(serviceKey)).toEqual(['tcp:10.0.0.1:80']);
  });

  it("finds the command the kernel refuses, reports ipvsadm's own message, and still applies the rest", async () => {
    const bad: IpvsTable = { services: [{ ...WANT.services[0]!, scheduler: 'nosuch' }, WANT.services[1]!] };
    const r = await converge(fake.inProcess(), bad, MANAGED);
    expect(r.ok).toBe(false);
    expect(r.batchStderr).toBe('Scheduler or persistence engine not found\nService not defined\nService not defined');
    expect(r.failures).toEqual([
      {
        command: r.planned[0],
        args: ['-A', '-t', '10.0.0.1:80', '-s', 'nosuch'],
        exitCode: 255,
        stderr: 'Scheduler or persistence engine not found',
        pass: 2,
      },
    ]);
    expect(r.skipped.map((c) => commandArgs(c).join(' '))).toEqual([
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 2 -x 0 -y 0',
      '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1 -x 0 -y 0',
    ]);
    expect(r.passes).toBe(2); // the per-command pass changed nothing: no third pass
    expect(r.applied.map((c) => commandArgs(c)[0])).toEqual(['-A', '-a']); // the udp service and its real
    expect(r.remaining.every((c) => serviceKey(c.service) === 'tcp:10.0.0.1:80')).toBe(true);
  });

  it('recovers when a line stops the batch (ipvsadm -R quits at an option it cannot parse)', async () => {
    const bad: IpvsTable = { services: [{ ...WANT.services[0]!, schedFlags: 'sh-port' }, WANT.services[1]!] };
    const r = await converge(fake.inProcess(), bad, MANAGED);
    expect(r.batchStderr).toBe("incompatible scheduler flag `sh-port'");
    // the batch is bisected to the line that stopped it, which is then run alone
    expect(r.failures.map((f) => [f.args.join(' '), f.exitCode, f.stderr, f.pass])).toEqual([
      ['-A -t 10.0.0.1:80 -s wrr -b sh-port', 2, "incompatible scheduler flag `sh-port'", 1],
    ]);
    expect(r.passes).toBe(2); // pass 2 did the rest; the malformed command is not sent again
    expect(r.skipped).toHaveLength(2);
    // everything after the bad line was skipped by ipvsadm -R, and done by the second pass
    expect(parseSave(fake.sh('-S', '-n')).services.map(serviceKey)).toEqual(['udp:10.0.0.1:53']);
    expect(r.applied.map((c) => serviceKey(c.service))).toEqual(['udp:10.0.0.1:53', 'udp:10.0.0.1:53']);
  });

  it('finds one bad line among many without running every command alone', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => dest(`10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, 1, 'masq', 8080));
    const want: IpvsTable = {
      services: [
        { ...V1, scheduler: 'wrr', ops: false, destinations: many(500) },
        { ...V2, scheduler: 'rr', ops: true, schedFlags: 'bogus', destinations: [dest('10.0.0.5', 1, 'masq', 53)] },
        { protocol: 'tcp', family: 4, address: '10.0.0.1', port: 443, scheduler: 'wrr', ops: false, destinations: many(500) },
      ],
    };
    const keys = want.services.map(serviceKey);
    const r = await converge(fake.inProcess(), want, keys);
    expect(r.failures.map((f) => f.args.join(' '))).toEqual(['-A -u 10.0.0.1:53 -s rr -o -b bogus']);
    expect(r.remaining.map((c) => serviceKey(c.service))).toEqual(['udp:10.0.0.1:53', 'udp:10.0.0.1:53']);
    expect(r.applied).toHaveLength(1002);
    expect(r.runs).toBeLessThan(20);
  });

  it('reports a kernel without IPVS as an error, changing nothing', async () => {
    const r = await converge(fake.runner({ FAKE_IPVSADM_NO_IPVS: '1' }), WANT, MANAGED);
    expect(r.ok).toBe(false);
    expect(r.error?.kind).toBe('no-ipvs');
    expect(r.applied).toEqual([]);
  });

  it('computes the desired table from the table it just read', async () => {
    fake.sh('-A', '-t', '10.0.0.1:80', '-s', 'wrr');
    fake.sh('-a', '-t', '10.0.0.1:80', '-r', '10.0.0.9:80', '-m', '-w', '4');
    const seen: IpvsTable[] = [];
    const r = await converge(
      fake.inProcess(),
      (cur) => {
        seen.push(cur);
        const keep = cur.services.find((s) => serviceKey(s) === 'tcp:10.0.0.1:80')?.destinations ?? [];
        return { services: [{ ...V1, scheduler: 'wrr', ops: false, destinations: [...keep, dest('10.0.0.2')] }] };
      },
      ['tcp:10.0.0.1:80'],
    );
    expect(r.ok).toBe(true);
    expect(seen).toHaveLength(2); // the first read and the read-back
    expect(fake.sh('-S', '-n')).toContain('-r 10.0.0.9:80 -m -w 4');
  });
});

describe('IpvsReconciler', () => {
  let fake: FakeIpvsadm;
  beforeEach(() => {
    fake = fakeIpvsadm();
  });
  afterEach(() => fake.cleanup());

  it('runs one convergence at a time', async () => {
    const rec = new IpvsReconciler(fake.inProcess());
    const a = { services: [WANT.services[0]!] };
    const b = { services: [{ ...WANT.services[0]!, scheduler: 'rr' }] };
    const [ra, rb] = await Promise.all([rec.converge(a, [MANAGED[0]!]), rec.converge(b, [MANAGED[0]!])]);
    expect(ra.ok && rb.ok).toBe(true);
    expect(rb.before).toEqual(ra.after); // b started from what a left
    expect(rb.planned.map((c) => commandArgs(c).join(' '))).toEqual(['-E -t 10.0.0.1:80 -s rr']);
    expect((await rec.read()).services[0]!.scheduler).toBe('rr');
  });
});
