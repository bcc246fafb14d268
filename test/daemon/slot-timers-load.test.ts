// Slot timers on a loop that fell behind (real timers): a late slot fires after the I/O
// poll, so completions that came in meanwhile are read first, and its items are spread
// over turns of the loop by the time budget; a late deadline aborts after the poll too.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadlineSlots, SlotTimers } from '../../lib/daemon/slot-timers.js';

const HOST = '127.0.152.40';

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the loop is held
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('SlotTimers on a late loop', () => {
  it('fires a late slot over several turns of the loop, within its time budget each', async () => {
    let turn = 0;
    let counting = true;
    const tick = (): void => {
      turn++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const order: string[] = [];
    const turns = new Set<number>();
    const timers = new SlotTimers<number>(
      () => {
        turns.add(turn);
        busy(0.5);
        order.push('fire');
      },
      Date.now,
      20,
      5,
    );
    for (let i = 0; i < 64; i++) timers.add(i, Date.now() + 10);
    // The slot's time passes while the loop is held.
    busy(60);
    const until = Date.now() + 5000;
    while (order.filter((o) => o === 'fire').length < 64 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    counting = false;
    expect(order.filter((o) => o === 'fire')).toHaveLength(64);
    // 32 ms of work in 5 ms budgets: not all in one turn.
    expect(turns.size).toBeGreaterThanOrEqual(3);
  });

  it('aborts a late deadline only after the I/O poll: a completed connect is read first', async () => {
    const slots = new DeadlineSlots(Date.now, 50, 20);
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(15241, HOST, resolve));
    let connected = false;
    let connectedAtAbort: boolean | undefined;
    let release = (): void => undefined;
    // From the check phase: the next phase is the timers', where the deadline is due.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const socket = net.connect({ host: HOST, port: 15241 }, () => (connected = true));
        socket.on('error', () => undefined);
        cleanups.push(() => {
          socket.destroy();
          server.close();
        });
        const d = slots.join(Date.now() + 10, () => new Error('late'));
        release = () => d.release();
        d.signal.addEventListener('abort', () => (connectedAtAbort = connected));
        busy(60);
        resolve();
      }),
    );
    const until = Date.now() + 5000;
    while (connectedAtAbort === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    release();
    expect(connectedAtAbort).toBe(true);
  });
});
