// The slowstart ramp as a pure function: a few steps, at least a second apart,
// strictly rising, never 0, the full weight at the configured time.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_RAMP_STEPS, rampSteps, slowStartWeight } from '../../lib/daemon/slow-start.js';

/** The weights a ramp goes through, following nextChangeInMs from 0. */
function walk(target: number, seconds: number): { at: number; weight: number }[] {
  const out: { at: number; weight: number }[] = [];
  let at = 0;
  for (;;) {
    const p = slowStartWeight(target, seconds, at);
    out.push({ at, weight: p.weight });
    if (p.nextChangeInMs === undefined) return out;
    at += p.nextChangeInMs;
  }
}

describe('slowStartWeight', () => {
  it('weight 10 over 5 s: 2, 4, 5, 7, 9 one second apart, then 10', () => {
    expect(walk(10, 5)).toEqual([
      { at: 0, weight: 2 },
      { at: 1000, weight: 4 },
      { at: 2000, weight: 5 },
      { at: 3000, weight: 7 },
      { at: 4000, weight: 9 },
      { at: 5000, weight: 10 },
    ]);
  });

  it('long ramps use at most MAX_RAMP_STEPS steps', () => {
    const w = walk(100, 60);
    expect(w).toHaveLength(MAX_RAMP_STEPS + 1);
    expect(w.map((p) => p.at)).toEqual([0, 6000, 12000, 18000, 24000, 30000, 36000, 42000, 48000, 54000, 60000]);
    expect(w[0]!.weight).toBe(10);
  });

  it('small weights: weight 2 is 1 then 2; weight 1 and slowstart 0 do not ramp', () => {
    expect(walk(2, 30)).toEqual([
      { at: 0, weight: 1 },
      { at: 30000, weight: 2 },
    ]);
    expect(slowStartWeight(1, 30, 0)).toEqual({ weight: 1 });
    expect(slowStartWeight(8, 0, 0)).toEqual({ weight: 8 });
    expect(slowStartWeight(0, 30, 0)).toEqual({ weight: 0 });
    expect(rampSteps(5, 0)).toBe(0);
  });

  it('mid-step: the current step weight and the time left in it', () => {
    expect(slowStartWeight(10, 5, 2500)).toEqual({ weight: 5, nextChangeInMs: 500 });
    expect(slowStartWeight(10, 5, 5000)).toEqual({ weight: 10 });
    expect(slowStartWeight(10, 5, 99_000)).toEqual({ weight: 10 });
  });

  it('for any weight and time: steps >= 1 s apart, weights strictly rising in [1, target), the target at T', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 86400 }), (target, seconds) => {
        const w = walk(target, seconds);
        expect(w.length).toBeLessThanOrEqual(MAX_RAMP_STEPS + 1);
        expect(w.at(-1)!.weight).toBe(target);
        expect(w.at(-1)!.at).toBeLessThanOrEqual(seconds * 1000 + MAX_RAMP_STEPS);
        for (let i = 0; i + 1 < w.length; i++) {
          expect(w[i]!.weight).toBeGreaterThanOrEqual(1);
          expect(w[i]!.weight).toBeLessThan(w[i + 1]!.weight);
          expect(w[i + 1]!.at - w[i]!.at).toBeGreaterThanOrEqual(1000);
        }
      }),
    );
  });
});
