// One deadline per probe, from one source: the checker names the config value (checktimeout
// or negotiatetimeout) and the runner aborts the probe's signal then; nothing else times it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckRunner } from '../../lib/daemon/check-runner.js';
import { parse } from '../config/parse-helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CheckRunner deadlines', () => {
  it('aborts the signal at the timeout the checker names for the virtual, and reports the probe then', async () => {
    const r = await parse(
      'checkinterval=60\nchecktimeout=2\nnegotiatetimeout=7\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    checktype=negotiate\n',
    );
    const config = r.config!;
    const aborted: number[] = [];
    const results: string[] = [];
    let started = -1;
    const runner = new CheckRunner({
      checkers: () => ({
        name: 'hangs',
        identity: () => 'hangs',
        timeoutSeconds: (v) => v.negotiatetimeout,
        probe: (_target, signal) => {
          started = Date.now();
          return new Promise((resolve) =>
            signal.addEventListener('abort', () => {
              aborted.push(Date.now() - started);
              resolve({ ok: false, message: 'timed out', durationMs: Date.now() - started });
            }),
          );
        },
      }),
      onTransition: (_e, t, result) => results.push(`${t.kind} ${result?.message}`),
      random: () => 0,
    });
    runner.update(config);
    const all = runner.checkAllNow();
    await vi.advanceTimersByTimeAsync(6_900);
    expect(aborted).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    await all;
    expect(aborted).toHaveLength(1);
    // In its 20 ms slot: never early, never more than a slot late.
    expect(aborted[0]).toBeGreaterThanOrEqual(7_000);
    expect(aborted[0]).toBeLessThanOrEqual(7_020);
    expect(results).toEqual(['down timed out']);
    await runner.stop();
  });
});
