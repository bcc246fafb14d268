// The runner's deadline slots lend the signal of a slot whose checks all ended in time to
// a later slot. Beside a real that stalls, whose slot's signal is aborted at its deadline
// while a healthy check of the same slot has long ended, no check may be handed a signal
// that has fired, no healthy check may be cut short, and the stalled connections must
// still be closed at their deadline. Real http checker, real servers.
// Addresses: 127.0.132.41 (ports 23100-23101).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHttpChecker } from '../../checks/http.js';
import type { CheckResult } from '../../checks/types.js';
import { DeadlineSlots } from '../../lib/daemon/slot-timers.js';
import { testTarget, testVirtual } from '../support/data-servers.js';
import { closeGoodAndStalled, startGoodAndStalled, type GoodAndStalled } from './support/hostile-servers.js';

const HOST = '127.0.132.41';
let servers: GoodAndStalled | undefined;

beforeAll(async () => {
  servers = await startGoodAndStalled(HOST, 23100);
});

afterAll(() => closeGoodAndStalled(servers));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('a stalled real beside healthy ones: no check gets a fired signal, healthy checks end up, stalls end at their deadline', async () => {
  const { good, stall } = servers!;
  const checker = createHttpChecker('http');
  const v = testVirtual({ service: 'http', checktimeout: 1, negotiatetimeout: 1 });
  const slots = new DeadlineSlots(Date.now, 50);
  const timeout = (): Error => new Error('timed out');
  const seen = new Set<AbortSignal>();
  let handedFired = 0;
  let reused = 0;

  const run = async (port: number, due: number): Promise<{ result: CheckResult; endedAt: number }> => {
    const d = slots.join(due, timeout);
    if (d.signal.aborted) handedFired++;
    if (seen.has(d.signal)) reused++;
    seen.add(d.signal);
    try {
      const result = await checker.probe(testTarget(v, HOST, port), d.signal);
      return { result, endedAt: Date.now() };
    } finally {
      d.release();
    }
  };

  const healthy: Promise<{ result: CheckResult; endedAt: number }>[] = [];
  const stalled: { due: number; done: Promise<{ result: CheckResult; endedAt: number }> }[] = [];
  for (let round = 0; round < 8; round++) {
    const now = Date.now();
    const stallDue = now + 500;
    // One healthy check shares the stalled check's slot: it ends long before that slot fires.
    healthy.push(run(good.port, stallDue));
    stalled.push({ due: stallDue, done: run(stall.port, stallDue) });
    for (let i = 0; i < 4; i++) healthy.push(run(good.port, now + 1000));
    await sleep(120);
  }

  for (const h of await Promise.all(healthy)) expect(h.result.ok, `${h.result.message} ${h.result.detail ?? ''}`).toBe(true);
  for (const s of stalled) {
    const { result, endedAt } = await s.done;
    const late = `ended ${endedAt - s.due} ms after its due time: ${result.message}`;
    expect(result.ok, late).toBe(false);
    // Not before its deadline (rounded up to its 20-ms slot), and not long after. Node's
    // timers run on a monotonic millisecond clock, Date.now on the wall clock: the two
    // truncate differently, so a timer may fire up to 1 ms early by Date.now.
    expect(endedAt, late).toBeGreaterThanOrEqual(s.due - 2);
    expect(endedAt - s.due, late).toBeLessThan(1000);
  }
  expect(handedFired).toBe(0);
  // the mechanism under test did lend signals on
  expect(reused).toBeGreaterThan(0);
  expect(await stall.allClosed(2000)).toBe(true);
});
