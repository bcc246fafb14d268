// The IPVS layer against the REAL kernel table and the REAL Debian ipvsadm, in one
// throwaway guest (test/e2e/vm/ipvs-vm.sh; the machine's own kernel has no IPVS).
// The guest runs test/e2e/guest/ipvs-e2e.sh (then .mjs) and prints JSON; the assertions are here.
// Meanwhile the host runs the same ipvsadm command sequence through the fake ipvsadm,
// which must answer byte for byte like the real one.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { locateIpvsadm } from '../../lib/ipvs/locate.js';
import { readTable } from '../../lib/ipvs/read-table.js';
import type { IpvsTable } from '../../lib/ipvs/table.js';
import { runFakeIpvsadm } from '../support/fake-ipvsadm.mjs';
import { STEPS } from './guest/ipvsadm-steps.mjs';
import { UNMANAGED_SETUP } from './guest/scenarios.mjs';
import { buildForGuest, ROOT, VM } from './support/guest-build.js';

interface Output {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}
interface Summary {
  ok: boolean;
  error?: { kind: string; message: string };
  planned: string[];
  applied: string[];
  remaining: string[];
  skipped: string[];
  failures: Array<{ args: string; exitCode: number; stderr: string; pass: number }>;
  batchStderr: string;
  passes: number;
  runs: number;
  unmanagedBefore?: IpvsTable['services'];
  unmanagedAfter?: IpvsTable['services'];
}
interface GuestReport {
  ipvsadm: string;
  kernel: string;
  timings: Record<string, number>;
  steps: Output[];
  read: { table: IpvsTable; save: IpvsTable; list: IpvsTable };
  fromEmpty: Summary;
  again: Summary;
  tableAfterEmpty: IpvsTable;
  residualAfterEmpty: string[];
  drift: Summary;
  cleared: Summary;
  residualAfterCleared: string[];
  reload: Summary;
  residualAfterReload: string[];
  unmanagedInitial: IpvsTable['services'];
  unmanagedFinal: IpvsTable['services'];
  refused: Summary;
}

const run = promisify(execFile);
let guest: GuestReport;
let fakeSteps: Output[];
let vmSeconds = 0;
let fakeDir: string;

/** The same steps through the fake (in-process: the same code as the fake program). */
function runStepsOnFake(): Output[] {
  fakeDir = mkdtempSync(path.join(tmpdir(), 'fake-vs-real-'));
  const env = { FAKE_IPVSADM_STATE: path.join(fakeDir, 'state.json') };
  return STEPS.map(([args, input]) => runFakeIpvsadm({ args, env, stdin: input ?? '' }));
}

beforeAll(async () => {
  const lib = buildForGuest(STEPS);
  const t0 = performance.now();
  const vm = execa(VM, ['-q', '-C', ROOT, '-t', '280', '--', 'bash', 'test/e2e/guest/ipvs-e2e.sh', lib], {
    cwd: ROOT,
    reject: false,
    timeout: 290_000,
  });
  fakeSteps = runStepsOnFake();
  const vmResult = await vm;
  vmSeconds = (performance.now() - t0) / 1000;
  if (vmResult.exitCode !== 0) {
    throw new Error(
      `the IPVS guest failed (exit ${vmResult.exitCode}):\n${String(vmResult.stderr)}\n${String(vmResult.stdout).slice(0, 2000)}`,
    );
  }
  guest = JSON.parse(String(vmResult.stdout)) as GuestReport;
  console.log(
    `ipvs e2e: guest ${guest.kernel}, ${guest.ipvsadm}; VM run ${vmSeconds.toFixed(1)} s; in-guest ms: ${JSON.stringify(guest.timings)}`,
  );
}, 300_000);

afterAll(() => {
  if (fakeDir) rmSync(fakeDir, { recursive: true, force: true });
});

describe('fake ipvsadm vs the real one', () => {
  it('answers every step of the sequence with the same stdout, stderr and exit status', () => {
    expect(guest.steps).toHaveLength(STEPS.length);
    const mismatches = STEPS.flatMap(([args, input], i) => {
      const real = guest.steps[i]!;
      const fake = fakeSteps[i]!;
      return JSON.stringify(real) === JSON.stringify(fake) ? [] : [{ step: i, args: args.join(' '), input, real, fake }];
    });
    expect(mismatches).toEqual([]);
  });

  it('covers errors and listings, not only successes', () => {
    const codes = new Set(guest.steps.map((s) => s.exitCode));
    expect([...codes].sort()).toEqual([0, 1, 2, 255]);
  });
});

describe('reading tables built by hand with the real ipvsadm', () => {
  const d = (address: string, port: number, forward: string, weight: number, upperThreshold = 0, lowerThreshold = 0) => ({
    address,
    port,
    forward,
    weight,
    upperThreshold,
    lowerThreshold,
  });
  const EXPECTED = {
    services: [
      {
        protocol: 'tcp',
        family: 4,
        address: '10.0.0.1',
        port: 80,
        scheduler: 'wrr',
        ops: false,
        destinations: [
          d('10.0.0.2', 80, 'gate', 3),
          d('10.0.0.3', 8080, 'masq', 2, 100, 10),
          d('10.0.0.4', 80, 'ipip', 0),
          d('127.0.0.1', 80, 'gate', 1), // a local address stays Route on a 6.x kernel (no Local)
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
        protocol: 'udp',
        family: 4,
        address: '10.0.0.1',
        port: 53,
        scheduler: 'rr',
        ops: true,
        destinations: [d('10.0.0.5', 53, 'masq', 1)],
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
        destinations: [d('[2001:db8::2]', 80, 'gate', 4), d('[2001:db8::3]', 81, 'masq', 4, 5, 2)],
      },
      {
        protocol: 'fwm',
        family: 4,
        fwmark: 7,
        scheduler: 'lc',
        persistent: 360,
        ops: false,
        destinations: [d('10.0.0.6', 0, 'gate', 5, 8, 2)],
      },
      {
        protocol: 'fwm',
        family: 6,
        fwmark: 8,
        scheduler: 'rr',
        persistent: 30,
        netmask: '48',
        ops: false,
        destinations: [d('[2001:db8::10]', 80, 'masq', 1)],
      },
    ],
  };
  const noThresholds = (t: IpvsTable): unknown => ({
    services: t.services.map((s) => ({ ...s, destinations: s.destinations.map((x) => ({ ...x, upperThreshold: 0, lowerThreshold: 0 })) })),
  });

  it('reads tcp/udp/fwmark, IPv4/IPv6, persistence, netmask, ops, scheduler flags, thresholds and mapped ports', () => {
    expect(guest.read.table).toEqual(EXPECTED);
  });
  it('reads -S -n and -L -n to the same table (apart from thresholds, which only --thresholds shows)', () => {
    expect(guest.read.save).toEqual(noThresholds(guest.read.table));
    expect(guest.read.list).toEqual(noThresholds(guest.read.table));
  });
});

describe('converging the real table', () => {
  it('builds every service form from empty in one batch, verified by reading back', () => {
    const r = guest.fromEmpty;
    expect(r).toMatchObject({ ok: true, passes: 1, runs: 2, failures: [], remaining: [], skipped: [], batchStderr: '' });
    expect(r.applied).toEqual(r.planned);
    expect(r.planned[0]).toBe('-A -t 192.0.2.10:80 -s wrr');
    // sent with the port the kernel will store (ipvsadm maps gate/ipip ports to the virtual's)
    expect(r.planned).toContain('-a -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 3 -x 0 -y 0');
    expect(guest.residualAfterEmpty).toEqual([]);
  });

  it('does not re-add gate/ipip reals written without their port (ipvsadm mapped them)', () => {
    expect(guest.again).toMatchObject({ ok: true, planned: [], passes: 0, runs: 1 });
    const web = guest.tableAfterEmpty.services.find((s) => s.address === '192.0.2.10' && s.port === 80)!;
    expect(web.destinations.map((x) => `${x.address}:${x.port} ${x.forward}`)).toEqual([
      '198.51.100.2:80 gate',
      '198.51.100.3:8080 masq',
      '198.51.100.4:80 ipip',
    ]);
  });

  it('repairs drift made by hand (-d, -e) with exactly the commands needed', () => {
    expect(guest.drift).toMatchObject({ ok: true, passes: 1, failures: [] });
    expect(guest.drift.planned).toEqual([
      '-a -t 192.0.2.10:80 -r 198.51.100.3:8080 -m -w 2 -x 100 -y 10',
      '-e -f 7 -r 198.51.100.6:0 -g -w 5 -x 0 -y 0',
    ]);
  });

  it('rebuilds everything after ipvsadm -C', () => {
    expect(guest.cleared).toMatchObject({ ok: true, passes: 1, failures: [] });
    expect(guest.cleared.planned).toHaveLength(guest.fromEmpty.planned.length);
    expect(guest.residualAfterCleared).toEqual([]);
  });

  it('applies a reload: weights, thresholds, scheduler, ops, persistence, a moved real, a dropped virtual', () => {
    const r = guest.reload;
    expect(r).toMatchObject({ ok: true, passes: 1, failures: [] });
    expect(r.planned).toEqual([
      '-E -t 192.0.2.10:80 -s wlc',
      '-E -u 192.0.2.10:53 -s rr',
      '-E -f 7 -s lc',
      '-e -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 7 -x 0 -y 0',
      '-a -t 192.0.2.10:80 -r 198.51.100.4:8080 -m -w 1 -x 0 -y 0',
      '-a -t 192.0.2.10:80 -r 198.51.100.8:80 -m -w 2 -x 0 -y 0',
      '-e -t 192.0.2.10:80 -r 198.51.100.3:8080 -m -w 0 -x 0 -y 0',
      '-d -t 192.0.2.10:80 -r 198.51.100.4:80',
      '-d -f 7 -r 198.51.100.6:0',
      '-D -f 8 -6',
    ]);
    expect(guest.residualAfterReload).toEqual([]);
  });

  it('never touches services it does not manage', () => {
    for (const r of [guest.fromEmpty, guest.again, guest.drift, guest.reload]) {
      expect(r.unmanagedAfter).toEqual(r.unmanagedBefore);
      expect(r.unmanagedBefore!.length).toBe(UNMANAGED_SETUP.filter((a) => a[0] === '-A').length);
    }
    expect(guest.unmanagedFinal).toEqual(guest.unmanagedInitial);
    expect(guest.unmanagedInitial.find((x) => x.address === '192.0.2.99')!.destinations[0]).toMatchObject({
      weight: 9,
      upperThreshold: 30,
      lowerThreshold: 3,
    });
  });

  it("reports the command the kernel refused with the real ipvsadm's message, and applies the rest", () => {
    const r = guest.refused;
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual([
      { args: '-A -u 192.0.2.10:53 -s nosuch -o', exitCode: 255, stderr: 'Scheduler or persistence engine not found', pass: 2 },
    ]);
    expect(r.skipped).toEqual(['-a -u 192.0.2.10:53 -r 198.51.100.5:53 -m -w 1 -x 0 -y 0']);
    expect(r.applied.filter((l) => l.includes('192.0.2.10:80'))).toHaveLength(4);
    expect(r.remaining.every((l) => l.includes('192.0.2.10:53'))).toBe(true);
  });
});

describe('the real ipvsadm on this machine (whose kernel has no IPVS)', () => {
  const ipvsadm = locateIpvsadm();
  const hasIpvs = existsSync('/proc/net/ip_vs');
  it.skipIf(!ipvsadm || hasIpvs)('reports the missing ip_vs as an error, not as an empty table', async () => {
    const probe = await run(ipvsadm!, ['-L', '-n']).then(
      () => 'ok',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    if (!/Can't initialize ipvs/.test(probe)) return; // modprobe made it work after all: nothing to assert
    await expect(readTable(createIpvsadmRunner(ipvsadm!))).rejects.toMatchObject({
      kind: 'no-ipvs',
      message: expect.stringMatching(/^IPVS is not available: /),
    });
  });
});
