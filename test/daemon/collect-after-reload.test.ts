import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectAfterReload } from '../../lib/app/collect-after-reload.js';

const g = globalThis as { gc?: () => void };
const had = g.gc;

afterEach(() => {
  vi.useRealTimers();
  if (had) g.gc = had;
  else delete g.gc;
});

describe('collectAfterReload', () => {
  it('collects in full once, two seconds after the last of several reloads', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    g.gc = gc;
    collectAfterReload();
    vi.advanceTimersByTime(1500);
    collectAfterReload();
    vi.advanceTimersByTime(1500);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(600);
    expect(gc).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(gc).toHaveBeenCalledTimes(1);
  });

  it('does nothing without node --expose-gc', () => {
    vi.useFakeTimers();
    delete g.gc;
    collectAfterReload();
    expect(vi.getTimerCount()).toBe(0);
  });
});
