import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandArgs, type IpvsCommand } from '../../lib/ipvs/commands.js';
import { diffTable } from '../../lib/ipvs/diff.js';
import {
  EMPTY_TABLE,
  normalizeService,
  serviceKey,
  type IpvsDestination,
  type IpvsForward,
  type IpvsService,
  type IpvsServiceId,
  type IpvsTable,
} from '../../lib/ipvs/table.js';
import { applyCommand, applyCommands } from '../support/ipvs-model.js';

const V1: IpvsServiceId = { protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 };
const V2: IpvsServiceId = { protocol: 'udp', family: 4, address: '10.0.0.1', port: 53 };
const FW: IpvsServiceId = { protocol: 'fwm', family: 4, fwmark: 7 };
const K1 = serviceKey(V1),
  K2 = serviceKey(V2),
  KF = serviceKey(FW);

const d = (address: string, o: Partial<IpvsDestination> = {}): IpvsDestination => ({
  address,
  port: 80,
  forward: 'masq',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...o,
});
const svc = (id: IpvsServiceId, destinations: IpvsDestination[], o: Partial<IpvsService> = {}): IpvsService => ({
  ...id,
  scheduler: 'wrr',
  ops: false,
  destinations,
  ...o,
});
const table = (...services: IpvsService[]): IpvsTable => ({ services });
const lines = (cmds: IpvsCommand[]): string[] => cmds.map((c) => commandArgs(c).join(' '));

describe('diffTable', () => {
  it('builds a managed service from nothing: service first, then its reals', () => {
    const want = table(svc(V1, [d('10.0.0.2'), d('10.0.0.3', { weight: 2, upperThreshold: 10, lowerThreshold: 5 })]));
    expect(lines(diffTable(EMPTY_TABLE, want, [K1]))).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1 -x 0 -y 0',
      '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 2 -x 10 -y 5',
    ]);
  });

  it('never touches a service that is not managed, whatever it holds', () => {
    const cur = table(svc(V2, [d('10.9.9.9', { port: 53 })], { scheduler: 'rr' }), svc(FW, []));
    const want = table(svc(V1, [d('10.0.0.2')]));
    const cmds = diffTable(cur, want, [K1]);
    expect(cmds.every((c) => serviceKey(c.service) === K1)).toBe(true);
    expect(diffTable(cur, EMPTY_TABLE, [])).toEqual([]);
  });

  it('owns a managed service: unknown reals in it are removed', () => {
    const cur = table(svc(V1, [d('10.0.0.2'), d('10.0.0.99')]));
    const want = table(svc(V1, [d('10.0.0.2')]));
    expect(lines(diffTable(cur, want, [K1]))).toEqual(['-d -t 10.0.0.1:80 -r 10.0.0.99:80']);
  });

  it('deletes a managed service that is no longer desired (a virtual dropped on reload), last', () => {
    const cur = table(svc(V1, [d('10.0.0.2')]), svc(V2, [d('10.0.0.5', { port: 53 })]));
    const want = table(svc(V1, [d('10.0.0.2'), d('10.0.0.3')]));
    expect(lines(diffTable(cur, want, [K1, K2]))).toEqual(['-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1 -x 0 -y 0', '-D -u 10.0.0.1:53']);
  });

  it('edits changed service options with the full option set, and leaves equal ones alone', () => {
    const cur = table(svc(V1, [], { scheduler: 'wrr', persistent: 300, netmask: '255.255.255.0' }));
    expect(diffTable(cur, table(svc(V1, [], { scheduler: 'wrr', persistent: 300, netmask: '255.255.255.000' })), [K1])).toEqual([]);
    const cmds = diffTable(cur, table(svc(V1, [], { scheduler: 'wlc', persistent: 300, netmask: '255.255.255.0' })), [K1]);
    expect(lines(cmds)).toEqual(['-E -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0']);
    expect(cmds[0]).toMatchObject({ op: 'edit-service', previous: { scheduler: 'wrr' } });
    expect(lines(diffTable(cur, table(svc(V1, [])), [K1]))).toEqual(['-E -t 10.0.0.1:80 -s wrr']);
  });

  it('does not re-add a gate/ipip real written without a port (ipvsadm maps it to the virtual port, spec §4.2)', () => {
    const want = table(svc(V1, [d('10.0.0.2', { port: 0, forward: 'gate' }), d('10.0.0.3', { port: 8080, forward: 'ipip' })]));
    const first = diffTable(EMPTY_TABLE, want, [K1]);
    const after = applyCommands(EMPTY_TABLE, first);
    expect(after.services[0]!.destinations.map((x) => `${x.address}:${x.port}`)).toEqual(['10.0.0.2:80', '10.0.0.3:80']);
    expect(diffTable(after, want, [K1])).toEqual([]);
    // ... but a fwmark service keeps port 0
    const fw = table(svc(FW, [d('10.0.0.2', { port: 0, forward: 'gate' })]));
    expect(lines(diffTable(EMPTY_TABLE, fw, [KF]))[1]).toBe('-a -f 7 -r 10.0.0.2:0 -g -w 1 -x 0 -y 0');
  });

  it('moves a real whose stored key changes (masq 8080 -> gate) by add then delete', () => {
    const cur = table(svc(V1, [d('10.0.0.3', { port: 8080 })]));
    const want = table(svc(V1, [d('10.0.0.3', { port: 8080, forward: 'gate' })]));
    expect(lines(diffTable(cur, want, [K1]))).toEqual([
      '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1 -x 0 -y 0',
      '-d -t 10.0.0.1:80 -r 10.0.0.3:8080',
    ]);
  });

  it('adds capacity before it removes any: fallback in before the last real goes out', () => {
    const cur = table(svc(V1, [d('10.0.0.2')]));
    const want = table(svc(V1, [d('127.0.0.1', { forward: 'gate' })]));
    expect(lines(diffTable(cur, want, [K1]))).toEqual([
      '-a -t 10.0.0.1:80 -r 127.0.0.1:80 -g -w 1 -x 0 -y 0',
      '-d -t 10.0.0.1:80 -r 10.0.0.2:80',
    ]);
  });

  it('restores before it quiesces, and quiesces with weight 0 (an edit)', () => {
    const cur = table(svc(V1, [d('10.0.0.2', { weight: 5 }), d('10.0.0.3', { weight: 0 })]));
    const want = table(svc(V1, [d('10.0.0.2', { weight: 0 }), d('10.0.0.3', { weight: 5 })]));
    const cmds = diffTable(cur, want, [K1]);
    expect(lines(cmds)).toEqual([
      '-e -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 5 -x 0 -y 0',
      '-e -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 0 -x 0 -y 0',
    ]);
    expect(cmds[1]).toMatchObject({ op: 'edit-destination', previous: { weight: 5 } });
  });

  it('treats a Local entry as satisfying gate (ipvsadm itself saves Local as -g)', () => {
    const cur = table(svc(V1, [d('127.0.0.1', { forward: 'local' })]));
    expect(diffTable(cur, table(svc(V1, [d('127.0.0.1', { forward: 'gate' })])), [K1])).toEqual([]);
    expect(lines(diffTable(cur, table(svc(V1, [d('127.0.0.1')])), [K1]))).toEqual(['-e -t 10.0.0.1:80 -r 127.0.0.1:80 -m -w 1 -x 0 -y 0']);
  });

  it('edits thresholds', () => {
    const cur = table(svc(V1, [d('10.0.0.2', { upperThreshold: 10 })]));
    expect(lines(diffTable(cur, table(svc(V1, [d('10.0.0.2')])), [K1]))).toEqual(['-e -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1 -x 0 -y 0']);
  });

  it('keeps the first of two desired reals with the same stored key', () => {
    const want = table(
      svc(V1, [d('10.0.0.2', { port: 0, forward: 'gate', weight: 3 }), d('10.0.0.2', { port: 80, forward: 'gate', weight: 9 })]),
    );
    expect(lines(diffTable(EMPTY_TABLE, want, [K1]))).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 3 -x 0 -y 0',
    ]);
    // in a service the table already has, too: the second neither edits nor deletes it
    const have = table(svc(V1, [d('10.0.0.2', { forward: 'gate', weight: 3 })]));
    expect(lines(diffTable(have, want, [K1]))).toEqual([]);
  });

  it('refuses a desired service that is not managed (a caller bug)', () => {
    expect(() => diffTable(EMPTY_TABLE, table(svc(V1, [])), [K2])).toThrow(/tcp:10.0.0.1:80 is not among the managed/);
  });

  it('is pure: it does not change its inputs', () => {
    const cur = table(svc(V1, [d('10.0.0.9')]));
    const want = table(svc(V1, [d('10.0.0.2', { port: 0, forward: 'gate' })]));
    const before = JSON.stringify([cur, want]);
    diffTable(cur, want, [K1]);
    expect(JSON.stringify([cur, want])).toBe(before);
  });
});

// ------------------------------------------------------------------ properties ----

const ids: IpvsServiceId[] = [
  V1,
  V2,
  FW,
  { protocol: 'tcp', family: 6, address: '[2001:db8::1]', port: 443 },
  { protocol: 'fwm', family: 6, fwmark: 7 },
];
const arbDest = (id: IpvsServiceId): fc.Arbitrary<IpvsDestination> =>
  fc.record({
    address:
      id.family === 6
        ? fc.constantFrom('[2001:db8::2]', '[2001:db8::3]', '[2001:db8::4]')
        : fc.constantFrom('10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'),
    port: fc.constantFrom(0, 80, 8080),
    forward: fc.constantFrom<IpvsForward>('gate', 'masq', 'ipip'),
    weight: fc.integer({ min: 0, max: 3 }),
    upperThreshold: fc.constantFrom(0, 10),
    lowerThreshold: fc.constant(0),
  });
const arbService = (id: IpvsServiceId): fc.Arbitrary<IpvsService> =>
  fc
    .record({
      scheduler: fc.constantFrom('rr', 'wrr', 'sh'),
      persistent: fc.option(fc.constantFrom(60, 300), { nil: undefined }),
      ops: id.protocol === 'udp' ? fc.boolean() : fc.constant(false),
      destinations: fc.array(arbDest(id), { maxLength: 4 }),
    })
    .map((o) => {
      const s = {
        ...id,
        scheduler: o.scheduler,
        ops: o.ops,
        destinations: o.destinations,
        ...(o.persistent ? { persistent: o.persistent } : {}),
      };
      return s as IpvsService;
    });
/** A table as the kernel can hold it: each service once, each stored destination key once. */
const arbTable: fc.Arbitrary<IpvsTable> = fc.subarray(ids).chain((chosen) =>
  fc.tuple(...chosen.map(arbService)).map((services) => ({
    services: services.map((s) => {
      const n = normalizeService(s);
      const seen = new Set<string>();
      return {
        ...n,
        destinations: n.destinations.filter((x) => !seen.has(`${x.address}:${x.port}`) && !!seen.add(`${x.address}:${x.port}`)),
      };
    }),
  })),
);

const managedPart = (t: IpvsTable, managed: Set<string>): IpvsService[] =>
  t.services
    .filter((s) => managed.has(serviceKey(s)))
    .map(normalizeService)
    .map(sortDests)
    .sort(byKey);
const unmanagedPart = (t: IpvsTable, managed: Set<string>): IpvsService[] =>
  t.services
    .filter((s) => !managed.has(serviceKey(s)))
    .map(sortDests)
    .sort(byKey);
const sortDests = (s: IpvsService): IpvsService => ({
  ...s,
  destinations: [...s.destinations].sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`)),
});
const byKey = (a: IpvsService, b: IpvsService): number => serviceKey(a).localeCompare(serviceKey(b));
const live = (t: IpvsTable, k: string): number =>
  t.services.find((s) => serviceKey(s) === k)?.destinations.filter((x) => x.weight > 0).length ?? 0;

describe('diffTable properties', () => {
  const arbCase = fc.tuple(arbTable, arbTable, fc.subarray(ids.map(serviceKey))).map(([current, want, extra]) => {
    const managed = new Set([...want.services.map(serviceKey), ...extra]);
    // the desired table as a caller would write it: gate/ipip reals with their config ports
    return { current, want, managed };
  });

  it('converges in one pass, touches only managed services, and is then idempotent', () => {
    fc.assert(
      fc.property(arbCase, ({ current, want, managed }) => {
        const cmds = diffTable(current, want, managed);
        const after = applyCommands(current, cmds); // the model throws on any command the kernel would refuse
        expect(managedPart(after, managed)).toEqual(managedPart(want, managed));
        expect(unmanagedPart(after, managed)).toEqual(unmanagedPart(current, managed));
        expect(diffTable(after, want, managed)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('never leaves a service with fewer live reals than both its start and its end state have', () => {
    fc.assert(
      fc.property(arbCase, ({ current, want, managed }) => {
        const cmds = diffTable(current, want, managed);
        const keys = [...managed].filter(
          (k) => current.services.some((s) => serviceKey(s) === k) && want.services.some((s) => serviceKey(s) === k),
        );
        let t = current;
        const floor = new Map(keys.map((k) => [k, Math.min(live(current, k), live(applyCommands(current, cmds), k))]));
        for (const c of cmds) {
          t = applyCommand(t, c);
          for (const k of keys) expect(live(t, k)).toBeGreaterThanOrEqual(floor.get(k)!);
        }
      }),
      { numRuns: 500 },
    );
  });
});
