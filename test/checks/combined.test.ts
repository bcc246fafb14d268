import { describe, expect, it } from 'vitest';
import { COMBINED_FORCE_NEGOTIATE, combinedNext, combinedStep, type CombinedStep } from '../../checks/combined.js';

/** Runs the sequence for N with the given results and returns the steps taken. */
function run(n: number, results: boolean[]): CombinedStep[] {
  let counter = COMBINED_FORCE_NEGOTIATE;
  const steps: CombinedStep[] = [];
  for (const ok of results) {
    const step = combinedStep(counter, n);
    steps.push(step);
    counter = combinedNext(counter, step, ok);
  }
  return steps;
}

describe('combined N (spec §3.2)', () => {
  it('N=2: negotiate, connect, connect, negotiate, ... (the verified sequence)', () => {
    expect(run(2, Array(7).fill(true))).toEqual(['negotiate', 'connect', 'connect', 'negotiate', 'connect', 'connect', 'negotiate']);
  });

  it('a failed connect forces the next check to be a negotiate', () => {
    expect(run(3, [true, true, false, true, true])).toEqual(['negotiate', 'connect', 'connect', 'negotiate', 'connect']);
  });

  it('a failed negotiate keeps forcing negotiates', () => {
    expect(run(2, [false, false, true, true])).toEqual(['negotiate', 'negotiate', 'negotiate', 'connect']);
  });

  it('N=0 always negotiates', () => {
    expect(run(0, [true, true, false, true])).toEqual(['negotiate', 'negotiate', 'negotiate', 'negotiate']);
  });
});
