// What one check result does to a real's state (spec §3.1 failurecount, §4.4),
// as a pure function so it is tested on its own.

export type RealStatus = 'unknown' | 'up' | 'down';

export interface RealCheckState {
  readonly status: RealStatus;
  /** Failed checks in a row while up (or before the first result). */
  readonly failCount: number;
}

export type Transition =
  | { readonly kind: 'none' }
  | { readonly kind: 'up'; readonly resetFrom: number }
  | { readonly kind: 'down' }
  | { readonly kind: 'soft-failure'; readonly count: number; readonly limit: number }
  | { readonly kind: 'reset-soft-failure' };

export const INITIAL_STATE: RealCheckState = { status: 'unknown', failCount: 0 };

/**
 * - success: up (if not already), fail count back to 0; "Resetting soft failure
 *   count" when an up real had soft failures.
 * - failure while up: count it; down once it reaches failurecount, "Soft failure"
 *   before that. Failures of a down real are not counted.
 * - the first result of an unknown real decides at once: a real nobody has seen
 *   pass is not given traffic while it sits out failurecount (fix of §10: no real
 *   gets weight before a successful check).
 */
export function applyResult(
  state: RealCheckState,
  ok: boolean,
  failurecount: number,
): { state: RealCheckState; transition: Transition } {
  if (ok) {
    if (state.status === 'up') {
      if (state.failCount > 0) return { state: { status: 'up', failCount: 0 }, transition: { kind: 'reset-soft-failure' } };
      return { state, transition: { kind: 'none' } };
    }
    return { state: { status: 'up', failCount: 0 }, transition: { kind: 'up', resetFrom: state.failCount } };
  }
  if (state.status === 'down') return { state, transition: { kind: 'none' } };
  if (state.status === 'unknown') return { state: { status: 'down', failCount: 0 }, transition: { kind: 'down' } };
  const count = state.failCount + 1;
  if (count >= failurecount) return { state: { status: 'down', failCount: 0 }, transition: { kind: 'down' } };
  return { state: { status: 'up', failCount: count }, transition: { kind: 'soft-failure', count, limit: failurecount } };
}

/** Maintenance and checktype=off/on force a state without counting (spec §3.1). */
export function forceStatus(state: RealCheckState, status: 'up' | 'down'): { state: RealCheckState; transition: Transition } {
  if (state.status === status) return { state: { status, failCount: 0 }, transition: { kind: 'none' } };
  return {
    state: { status, failCount: 0 },
    transition: status === 'up' ? { kind: 'up', resetFrom: 0 } : { kind: 'down' },
  };
}
