// checktype=N ("combined"): negotiate, then N connect checks, then negotiate again, ...
// (spec §3.2). Pure functions over the per-real counter; the runner owns the counter
// and keeps it across checks (and across reloads when the real is unchanged).

export type CombinedStep = 'negotiate' | 'connect';

/** The counter a real starts with (and returns to after a failed connect): forces a negotiate. */
export const COMBINED_FORCE_NEGOTIATE = Number.POSITIVE_INFINITY;

/** Which check the next probe of a real runs, given its counter and N. */
export function combinedStep(counter: number, n: number): CombinedStep {
  return counter >= n ? 'negotiate' : 'connect';
}

/** The counter after a probe of `step` that gave `ok`. */
export function combinedNext(counter: number, step: CombinedStep, ok: boolean): number {
  if (step === 'negotiate') return ok ? 0 : counter; // a failed negotiate keeps forcing negotiates
  return ok ? counter + 1 : COMBINED_FORCE_NEGOTIATE;
}
