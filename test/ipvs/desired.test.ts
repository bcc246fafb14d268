import { describe, expect, it } from 'vitest';
import type { Config, GlobalSettings, RealServer, VirtualService } from '../../lib/config/model.js';
import { commandArgs } from '../../lib/ipvs/commands.js';
import { desiredState, fallbackOf, serviceOf, type RealState, type RealsSnapshot } from '../../lib/ipvs/desired.js';
import { diffTable } from '../../lib/ipvs/diff.js';
import { logLineFor } from '../../lib/ipvs/log-lines.js';
import { EMPTY_TABLE, type IpvsTable } from '../../lib/ipvs/table.js';
import { applyCommands } from '../support/ipvs-model.js';
import { configOf, realServer, virtualService } from '../support/config-builders.js';

const real = (ip: string, o: Partial<RealServer> = {}): RealServer => realServer({ ip, port: 80, line: 1, ...o });
const virtual = (o: Partial<VirtualService> = {}): VirtualService => virtualService({ negotiatetimeout: 30, ...o });
const config = (virtuals: VirtualService[], g: Partial<GlobalSettings> = {}): Config => configOf(virtuals, g);
const states = (cfg: Config, m: Record<string, RealState>): RealsSnapshot =>
  new Map(cfg.virtuals.map((v) => [v, v.reals.map((r) => ({ state: m[r.ip] ?? 'unknown', weight: r.weight, maintenance: false }))]));
const plan = (cfg: Config, m: Record<string, RealState>, current: IpvsTable = EMPTY_TABLE): string[] => {
  const want = desiredState(cfg, current, states(cfg, m));
  return diffTable(current, want.table, want.managed).map((c) => commandArgs(c).join(' '));
};
/** Converges `current` with the model and returns the new table. */
const step = (cfg: Config, m: Record<string, RealState>, current: IpvsTable): IpvsTable => {
  const want = desiredState(cfg, current, states(cfg, m));
  return applyCommands(current, diffTable(current, want.table, want.managed));
};

const TWO = virtual({
  reals: [real('10.0.0.2', { weight: 2, upperThreshold: 50, lowerThreshold: 5 }), real('10.0.0.3')],
  fallback: { ip: '127.0.0.1', port: 80, forward: 'gate', line: 2 },
});

describe('serviceOf', () => {
  it('emits -M only with -p and -o only for udp (spec §4.2)', () => {
    expect(serviceOf(virtual({ netmask: '255.255.255.0', ops: true, schedflags: 'flag-1' }))).toEqual({
      protocol: 'tcp',
      family: 4,
      address: '10.0.0.1',
      port: 80,
      scheduler: 'wrr',
      ops: false,
      schedFlags: 'flag-1',
      destinations: [],
    });
    expect(serviceOf(virtual({ protocol: 'udp', persistent: 300, netmask: '255.255.255.0', ops: true }))).toMatchObject({
      protocol: 'udp',
      persistent: 300,
      netmask: '255.255.255.0',
      ops: true,
    });
  });
  it('builds fwmark and IPv6 services', () => {
    expect(serviceOf(virtual({ protocol: 'fwm', family: 6, fwmark: 8, ip: undefined, port: undefined }))).toMatchObject({
      protocol: 'fwm',
      family: 6,
      fwmark: 8,
    });
    expect(serviceOf(virtual({ family: 6, ip: '[2001:DB8::1]' }))).toMatchObject({ address: '[2001:db8::1]', family: 6 });
  });
});

describe('desiredState', () => {
  it('adds nothing for reals not checked yet, and no fallback either (no start-up flap, §10)', () => {
    expect(plan(config([TWO]), {})).toEqual(['-A -t 10.0.0.1:80 -s wrr']);
  });

  it('keeps the table entries of reals not checked yet exactly as they are', () => {
    const current: IpvsTable = {
      services: [
        {
          ...serviceOf(TWO),
          destinations: [
            { address: '10.0.0.2', port: 80, forward: 'masq', weight: 7, upperThreshold: 0, lowerThreshold: 0 },
            { address: '127.0.0.1', port: 80, forward: 'gate', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
            { address: '10.0.0.99', port: 80, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
          ],
        },
      ],
    };
    // the unknown real and the fallback stay; the entry the config does not know is purged
    expect(plan(config([TWO]), {}, current)).toEqual(['-d -t 10.0.0.1:80 -r 10.0.0.99:80']);
  });

  it('gives an up real its weight and thresholds, and removes the fallback', () => {
    let t = step(config([TWO]), { '10.0.0.2': 'down', '10.0.0.3': 'down' }, EMPTY_TABLE);
    expect(t.services[0]!.destinations.map((d) => `${d.address}:${d.port}/${d.weight}`)).toEqual(['127.0.0.1:80/1']);
    expect(plan(config([TWO]), { '10.0.0.2': 'up', '10.0.0.3': 'down' }, t)).toEqual([
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 2 -x 50 -y 5',
      '-d -t 10.0.0.1:80 -r 127.0.0.1:80',
    ]);
    t = step(config([TWO]), { '10.0.0.2': 'up', '10.0.0.3': 'down' }, t);
    expect(t.services[0]!.destinations.map((d) => d.address)).toEqual(['10.0.0.2']);
  });

  it('puts the fallback in before the last real goes out', () => {
    const t = step(config([TWO]), { '10.0.0.2': 'up', '10.0.0.3': 'up' }, EMPTY_TABLE);
    expect(plan(config([TWO]), { '10.0.0.2': 'down', '10.0.0.3': 'down' }, t)).toEqual([
      '-a -t 10.0.0.1:80 -r 127.0.0.1:80 -g -w 1 -x 0 -y 0',
      '-d -t 10.0.0.1:80 -r 10.0.0.2:80',
      '-d -t 10.0.0.1:80 -r 10.0.0.3:80',
    ]);
  });

  it('keeps the fallback as it is while no real is up but some are still unknown', () => {
    const t = step(config([TWO]), { '10.0.0.2': 'down', '10.0.0.3': 'down' }, EMPTY_TABLE);
    expect(plan(config([TWO]), { '10.0.0.2': 'down' }, t)).toEqual([]);
    expect(plan(config([TWO]), { '10.0.0.2': 'down' }, EMPTY_TABLE)).toEqual(['-A -t 10.0.0.1:80 -s wrr']);
  });

  it('quiesces a down real to weight 0 with quiescent=yes, and leaves a missing one out unless readdquiescent', () => {
    const q = virtual({ reals: TWO.reals, quiescent: true });
    const t = step(config([q]), { '10.0.0.2': 'up', '10.0.0.3': 'up' }, EMPTY_TABLE);
    expect(plan(config([q]), { '10.0.0.2': 'down', '10.0.0.3': 'up' }, t)).toEqual(['-e -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 0 -x 0 -y 0']);
    expect(plan(config([q]), { '10.0.0.2': 'down', '10.0.0.3': 'up' })).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1 -x 0 -y 0',
    ]);
    expect(plan(config([q], { readdquiescent: true }), { '10.0.0.2': 'down', '10.0.0.3': 'up' })).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 0 -x 0 -y 0',
      '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1 -x 0 -y 0',
    ]);
  });

  it('deletes a down real with quiescent=no', () => {
    const t = step(config([TWO]), { '10.0.0.2': 'up', '10.0.0.3': 'up' }, EMPTY_TABLE);
    expect(plan(config([TWO]), { '10.0.0.2': 'up', '10.0.0.3': 'down' }, t)).toEqual(['-d -t 10.0.0.1:80 -r 10.0.0.3:80']);
  });

  it('gives a fwmark virtual the global fallback (the original sent "-r :0", §4.5, §10)', () => {
    const fw = virtual({
      id: 'fwm:7',
      name: '7',
      protocol: 'fwm',
      fwmark: 7,
      ip: undefined,
      port: undefined,
      reals: [real('10.0.0.2', { port: 0, forward: 'gate' })],
    });
    const cfg = config([fw], { fallback: { ip: '127.0.0.1', forward: 'gate', line: 1 } });
    expect(fallbackOf(cfg, fw)).toMatchObject({ ip: '127.0.0.1', port: 0 });
    expect(plan(cfg, { '10.0.0.2': 'down' })).toEqual(['-A -f 7 -s wrr', '-a -f 7 -r 127.0.0.1:0 -g -w 1 -x 0 -y 0']);
  });

  it("uses the global fallback of the virtual's family, borrowing the virtual's port", () => {
    const v6 = virtual({
      id: 'tcp:[2001:db8::1]:443',
      name: '[2001:db8::1]:443',
      family: 6,
      ip: '[2001:db8::1]',
      port: 443,
      reals: [real('[2001:db8::2]', { port: 443 })],
    });
    const cfg = config([v6], {
      fallback: { ip: '127.0.0.1', forward: 'gate', line: 1 },
      fallback6: { ip: '[::1]', forward: 'masq', line: 2 },
    });
    expect(plan(cfg, { '[2001:db8::2]': 'down' })).toEqual([
      '-A -t [2001:db8::1]:443 -s wrr',
      '-a -t [2001:db8::1]:443 -r [::1]:443 -m -w 1 -x 0 -y 0',
    ]);
  });

  it('maps gate/ipip reals to the virtual port and converges without re-adding them', () => {
    const v = virtual({ reals: [real('10.0.0.2', { port: 0, forward: 'gate' })] });
    const t = step(config([v]), { '10.0.0.2': 'up' }, EMPTY_TABLE);
    expect(t.services[0]!.destinations[0]).toMatchObject({ address: '10.0.0.2', port: 80 });
    expect(plan(config([v]), { '10.0.0.2': 'up' }, t)).toEqual([]);
    expect(plan(config([v]), {}, t)).toEqual([]); // unknown: kept
  });

  it('deletes the virtuals of the previous config on reload, and manages only its own', () => {
    const current: IpvsTable = {
      services: [
        { ...serviceOf(virtual({ id: 'tcp:10.0.0.9:80', ip: '10.0.0.9' })), destinations: [] },
        { ...serviceOf(virtual({ id: 'tcp:10.0.0.8:80', ip: '10.0.0.8' })), destinations: [] },
      ],
    };
    const want = desiredState(config([TWO]), current, states(config([TWO]), {}), { previouslyManaged: ['tcp:10.0.0.9:80'] });
    expect(want.managed).toEqual(['tcp:10.0.0.1:80', 'tcp:10.0.0.9:80']);
    expect(diffTable(current, want.table, want.managed).map((c) => commandArgs(c).join(' '))).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-D -t 10.0.0.9:80',
    ]);
  });
});

describe('logLineFor', () => {
  const lines = (cfg: Config, m: Record<string, RealState>, current: IpvsTable = EMPTY_TABLE): string[] => {
    const want = desiredState(cfg, current, states(cfg, m));
    return diffTable(current, want.table, want.managed).map((c) => logLineFor(c, want));
  };
  const gateNoPort = virtual({
    reals: [real('10.0.0.2', { port: 0, forward: 'gate', weight: 3 }), real('10.0.0.3')],
    fallback: { ip: '127.0.0.1', port: 80, forward: 'gate', line: 2 },
    quiescent: true,
  });

  it('writes the original\'s lines, with the configured port in Added/Restored and "mapped from" elsewhere', () => {
    expect(lines(config([gateNoPort]), { '10.0.0.2': 'up', '10.0.0.3': 'down' })).toEqual([
      'Added virtual server: 10.0.0.1:80',
      'Added real server: 10.0.0.2:0 (10.0.0.1:80) (Weight set to 3)',
    ]);
    const t = step(config([gateNoPort]), { '10.0.0.2': 'up', '10.0.0.3': 'up' }, EMPTY_TABLE);
    expect(lines(config([gateNoPort]), { '10.0.0.2': 'down', '10.0.0.3': 'down' }, t)).toEqual([
      'Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)',
      'Quiescent real server: 10.0.0.2:80 mapped from 10.0.0.2:0 (10.0.0.1:80) (Weight set to 0)',
      'Quiescent real server: 10.0.0.3:80 (10.0.0.1:80) (Weight set to 0)',
    ]);
    const down = step(config([gateNoPort]), { '10.0.0.2': 'down', '10.0.0.3': 'down' }, t);
    expect(lines(config([gateNoPort]), { '10.0.0.2': 'up', '10.0.0.3': 'down' }, down)).toEqual([
      'Restored real server: 10.0.0.2:0 (10.0.0.1:80) (Weight set to 3)',
      'Deleted fallback server: 127.0.0.1:80 (10.0.0.1:80)',
    ]);
  });

  it('writes Readd, Deleted, Purged and Changed lines', () => {
    const v = virtual({ reals: [real('10.0.0.2', { port: 0, forward: 'gate' })] });
    expect(lines(config([{ ...v, quiescent: true }], { readdquiescent: true }), { '10.0.0.2': 'down' })).toEqual([
      'Added virtual server: 10.0.0.1:80',
      'Readd Quiescent real server: 10.0.0.2:80 mapped from 10.0.0.2:0 (10.0.0.1:80) (Weight set to 0)',
    ]);
    const t = step(config([v]), { '10.0.0.2': 'up' }, EMPTY_TABLE);
    const withStranger: IpvsTable = {
      services: [
        {
          ...t.services[0]!,
          destinations: [
            ...t.services[0]!.destinations,
            { address: '10.0.0.9', port: 80, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
          ],
        },
      ],
    };
    expect(lines(config([{ ...v, scheduler: 'rr' }]), { '10.0.0.2': 'down' }, withStranger)).toEqual([
      'Changed virtual server: 10.0.0.1:80',
      'Deleted real server: 10.0.0.2:80 mapped from 10.0.0.2:0 (10.0.0.1:80)',
      'Purged real server (start): 10.0.0.9:80 (10.0.0.1:80)',
    ]);
    const want = desiredState(config([]), t, states(config([]), {}), { previouslyManaged: ['tcp:10.0.0.1:80'] });
    expect(diffTable(t, want.table, want.managed).map((c) => logLineFor(c, want, 'stop'))).toEqual([
      'Purged virtual server (stop): 10.0.0.1:80',
    ]);
  });
});

describe('the configured servers of a desired state', () => {
  const svc = serviceOf(gateNoPortVirtual());
  function gateNoPortVirtual(): VirtualService {
    return virtual({
      reals: [real('10.0.0.2', { port: 0, forward: 'gate', weight: 3 }), real('10.0.0.2', { port: 80, forward: 'gate' }), real('10.0.0.3')],
      fallback: { ip: '10.0.0.3', port: 80, forward: 'gate', line: 2 },
    });
  }

  it('names the real or fallback stored at a destination, the first configured when two are stored alike', () => {
    const v = gateNoPortVirtual();
    const { servers } = desiredState(config([v]), EMPTY_TABLE, states(config([v]), {}));
    // 10.0.0.2:0 and 10.0.0.2:80 are both stored as 10.0.0.2:80 (gate takes the virtual's port)
    expect(servers.get(svc, { address: '10.0.0.2', port: 80 })).toEqual({
      role: 'real',
      configured: '10.0.0.2:0',
      virtual: '10.0.0.1:80',
      real: v.reals[0],
    });
    // the fallback at a real's address: the real
    expect(servers.get(svc, { address: '10.0.0.3', port: 80 })?.real).toBe(v.reals[2]);
    expect(servers.get(svc, { address: '10.0.0.9', port: 80 })).toBeUndefined();
  });

  it('names a fallback of its own, and nothing of a virtual outside the scope', () => {
    const v = virtual({ reals: [real('10.0.0.2')], fallback: { ip: '127.0.0.1', port: 8080, forward: 'masq', line: 2 } });
    const other = virtual({ ip: '10.0.0.5', reals: [real('10.0.0.6')] });
    const cfg = config([v, other]);
    const { servers } = desiredState(cfg, EMPTY_TABLE, states(cfg, {}), { scope: new Set(['tcp:10.0.0.1:80']) });
    expect(servers.get(svc, { address: '127.0.0.1', port: 8080 })).toEqual({
      role: 'fallback',
      configured: '127.0.0.1:8080',
      virtual: '10.0.0.1:80',
      fallback: fallbackOf(cfg, v),
    });
    expect(servers.get(serviceOf(other), { address: '10.0.0.6', port: 80 })).toBeUndefined();
  });
});
