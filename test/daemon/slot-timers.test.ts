// Slot timers: grouped, never early, at most one slot late; deadlines shared per slot.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineSlots, SlotTimers } from '../../lib/daemon/slot-timers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SlotTimers', () => {
  it('fires each item once at the end of its slot, never early', async () => {
    const fired: [string, number][] = [];
    const t = new SlotTimers<string>((x) => fired.push([x, Date.now()]), Date.now, 20);
    t.add('a', 101);
    t.add('b', 119);
    t.add('c', 120);
    t.add('d', 121);
    await vi.advanceTimersByTimeAsync(200);
    expect(fired).toEqual([
      ['a', 120],
      ['b', 120],
      ['c', 120],
      ['d', 140],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps slots on multiples of the slot length whatever the clock read when they were made (epoch times of today)', async () => {
    const start = 1_764_892_800_007; // 2025-12-05, 7 ms past a multiple of 20
    vi.setSystemTime(start);
    const fired: [string, number][] = [];
    const t = new SlotTimers<string>((x) => fired.push([x, Date.now()]), Date.now, 20);
    const d = new DeadlineSlots(Date.now, 50, 20);
    t.add('a', start + 6); // slot at start + 13
    t.add('b', start + 13);
    t.add('c', start + 14); // the next slot, start + 33
    const before = d.join(start + 13, () => new Error('late'));
    const after = d.join(start + 14, () => new Error('late'));
    expect(before.signal).not.toBe(after.signal);
    const aborted: [string, number][] = [];
    before.signal.addEventListener('abort', () => aborted.push(['before', Date.now()]));
    after.signal.addEventListener('abort', () => aborted.push(['after', Date.now()]));
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual([
      ['a', start + 13],
      ['b', start + 13],
      ['c', start + 33],
    ]);
    expect(aborted).toEqual([
      ['before', start + 13],
      ['after', start + 33],
    ]);
  });

  it('takes items back, and drops the Node timer of an empty slot', async () => {
    const fired: string[] = [];
    const t = new SlotTimers<string>((x) => fired.push(x), Date.now, 20);
    const ka = t.add('a', 50);
    const kb = t.add('b', 55);
    t.remove('a', ka);
    expect(vi.getTimerCount()).toBe(1);
    t.remove('b', kb);
    expect(vi.getTimerCount()).toBe(0);
    t.add('c', 70);
    t.clear();
    await vi.advanceTimersByTimeAsync(200);
    expect(fired).toEqual([]);
  });
});

describe('DeadlineSlots', () => {
  it('shares one signal per slot, aborts at the slot end, then expires after the grace', async () => {
    const d = new DeadlineSlots(Date.now, 50, 20);
    const a = d.join(1005, () => new Error('late'));
    const b = d.join(1019, () => new Error('late'));
    expect(a.signal).toBe(b.signal);
    let expired = false;
    void a.expired.then(() => (expired = true));
    await vi.advanceTimersByTimeAsync(1019);
    expect(a.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.signal.aborted).toBe(true);
    expect((a.signal.reason as Error).message).toBe('late');
    await vi.advanceTimersByTimeAsync(49);
    expect(expired).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toBe(true);
  });

  it('clears the slot timer when every check of it is over before the deadline', () => {
    const d = new DeadlineSlots(Date.now, 50, 20);
    const a = d.join(3000, () => new Error('late'));
    const b = d.join(3000, () => new Error('late'));
    a.release();
    expect(vi.getTimerCount()).toBe(1);
    b.release();
    expect(vi.getTimerCount()).toBe(0);
    // the next slot reuses the controller: it was never aborted and nobody listens on it
    const c = d.join(5000, () => new Error('late'));
    expect(c.signal).toBe(a.signal);
    expect(c.signal.aborted).toBe(false);
  });

  it('reuses no signal that a probe still listens on, or that was aborted', async () => {
    const d = new DeadlineSlots(Date.now, 50, 20);
    const held = d.join(1000, () => new Error('late'));
    const onAbort = vi.fn();
    held.signal.addEventListener('abort', onAbort);
    held.release();
    const next = d.join(2000, () => new Error('late'));
    expect(next.signal).not.toBe(held.signal);
    await vi.advanceTimersByTimeAsync(2000);
    // the probe's forgotten listener never hears the later slot's abort
    expect(next.signal.aborted).toBe(true);
    expect(onAbort).not.toHaveBeenCalled();
    next.release();
    const after = d.join(4000, () => new Error('late'));
    expect(after.signal).not.toBe(next.signal);
    expect(after.signal.aborted).toBe(false);
    after.release();
  });

  it('lends one spare signal to one slot at a time', () => {
    const d = new DeadlineSlots(Date.now, 50, 20);
    const a = d.join(1000, () => new Error('late'));
    a.release();
    const b = d.join(2000, () => new Error('late'));
    const c = d.join(3000, () => new Error('late'));
    expect(b.signal).toBe(a.signal);
    expect(c.signal).not.toBe(b.signal);
    b.release();
    c.release();
    expect(vi.getTimerCount()).toBe(0);
  });
  it("drops a released check's expiry: only the checks still running see it", async () => {
    const d = new DeadlineSlots(Date.now, 50, 20);
    const done = d.join(1000, () => new Error('late'));
    const hung = d.join(1000, () => new Error('late'));
    const seen: string[] = [];
    void done.expired.then(() => seen.push('done'));
    void hung.expired.then(() => seen.push('hung'));
    done.release();
    done.release(); // twice is harmless
    await vi.advanceTimersByTimeAsync(1050);
    expect(hung.signal.aborted).toBe(true);
    expect(seen).toEqual(['hung']);
    hung.release();
    expect(vi.getTimerCount()).toBe(0);
  });
});
