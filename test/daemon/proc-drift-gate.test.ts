// ProcDriftGate on its own: what /proc showed around a full read that found the table right
// is what later looks compare with; an unreadable /proc, a change across the full read, a
// forget() and a due full read each make the next drift check read in full.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcDriftGate } from '../../lib/daemon/proc-drift-gate.js';

const HEAD =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';
const table = (weight: number, active = 0): string =>
  `${HEAD}TCP  C0000201:0050 wrr  \n  -> 7F000002:0050      Masq    ${weight}      ${active}          0         \n`;
const MANAGED = new Set(['tcp:192.0.2.1:80']);

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A gate on a file standing in for /proc/net/ip_vs; `state.text` is what it holds (an Error: no file). */
function gate(o: { every?: number } = {}) {
  dir = mkdtempSync(path.join(tmpdir(), 'proc-gate-'));
  const file = path.join(dir, 'ip_vs');
  const state = { text: table(3) as string | Error, now: 0 };
  const g = new ProcDriftGate({ file, fullReadEveryMs: o.every ?? 60_000, now: () => state.now });
  const show = (): void => {
    if (state.text instanceof Error) rmSync(file, { force: true });
    else writeFileSync(file, state.text, 'latin1');
  };
  const look = (managed: ReadonlySet<string>) => {
    show();
    return g.look(managed);
  };
  const settle = (l: Awaited<ReturnType<typeof g.look>>, managed: ReadonlySet<string>) => {
    show();
    return g.settle(l, managed);
  };
  /** One drift check's decision: true when it skips the full read (and, if not, a full read that finds the table right). */
  const check = async (): Promise<boolean> => {
    const l = await look(MANAGED);
    if (l.unchanged) return true;
    g.fullRead();
    await settle(l, MANAGED);
    return false;
  };
  return { g, state, check, look, settle };
}

describe('ProcDriftGate', () => {
  it('reads in full first, then skips while /proc shows the same (connection counters aside)', async () => {
    const { state, check } = gate();
    expect(await check()).toBe(false);
    state.now += 5000;
    expect(await check()).toBe(true);
    state.text = table(3, 42);
    expect(await check()).toBe(true);
  });

  it('a weight changed: one full read, then quiet again', async () => {
    const { state, check } = gate();
    await check();
    state.text = table(7);
    expect(await check()).toBe(false);
    expect(await check()).toBe(true);
  });

  it('an unreadable or unparsable /proc never skips', async () => {
    const { state, check } = gate();
    await check();
    state.text = new Error('ENOENT');
    expect(await check()).toBe(false);
    expect(await check()).toBe(false);
    state.text = 'garbage\n';
    expect(await check()).toBe(false);
  });

  it('forget() and a due full read each make the next check read in full', async () => {
    const { g, state, check } = gate({ every: 60_000 });
    await check();
    g.forget();
    expect(await check()).toBe(false);
    state.now += 59_000;
    expect(await check()).toBe(true);
    state.now += 1000;
    expect(await check()).toBe(false);
  });

  it('a /proc that changed across the full read is not taken as right', async () => {
    const { g, state, look, settle } = gate();
    const l = await look(MANAGED);
    g.fullRead();
    state.text = table(9);
    await settle(l, MANAGED);
    expect((await look(MANAGED)).unchanged).toBe(false);
  });

  it('without a file: every check reads in full', async () => {
    const g = new ProcDriftGate({ file: undefined });
    const look = await g.look(MANAGED);
    await g.settle(look, MANAGED);
    expect((await g.look(MANAGED)).unchanged).toBe(false);
  });
});
