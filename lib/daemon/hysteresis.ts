// What one check result does to a real's state (spec §3.1 failurecount, §4.4,
// and ldirectord-ts's successcount), as a pure function so it is tested on its own.

export type RealStatus = 'unknown' | 'up' | 'down';

export interface RealCheckState {
  readonly status: RealStatus;
  /** Failed checks in a row while up (or before the first result). */
  readonly failCount: number;
  /** Passed checks in a row while not up (successcount > 1 only). */
  readonly successCount: number;
}

export type Transition =
  | { readonly kind: 'none' }
  | { readonly kind: 'up'; readonly resetFrom: number }
  /** `rising`: an unknown real passed, but needs more passes before it counts as up. */
  | { readonly kind: 'down'; readonly rising?: { readonly count: number; readonly limit: number } }
  | { readonly kind: 'soft-failure'; readonly count: number; readonly limit: number }
  | { readonly kind: 'reset-soft-failure' }
  /** A down real passed, but not yet successcount times in a row. */
  | { readonly kind: 'soft-success'; readonly count: number; readonly limit: number };

export const INITIAL_STATE: RealCheckState = { status: 'unknown', failCount: 0, successCount: 0 };

const UP: RealCheckState = { status: 'up', failCount: 0, successCount: 0 };
const DOWN: RealCheckState = { status: 'down', failCount: 0, successCount: 0 };

/** A check that changes nothing (most of them): one shared object, not one per check. */
const NO_TRANSITION: Transition = { kind: 'none' };
/** The answer to most checks, a pass of a real up with no soft failure: shared too. */
const STAYS_UP: { state: RealCheckState; transition: Transition } = { state: UP, transition: NO_TRANSITION };

/**
 * - success of an up real: fail count back to 0; "Resetting soft failure count"
 *   when it had soft failures.
 * - success of a real that is not up: up once it has passed successcount times
 *   in a row (1, the original's behaviour: at once). Before that it is down (an
 *   unknown real too: it gets no traffic, and the fallback can stand in, while
 *   it proves itself), and a failure starts the count again.
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
  successcount = 1,
): { state: RealCheckState; transition: Transition } {
  if (ok) {
    if (state.status === 'up') {
      if (state.failCount > 0) return { state: UP, transition: { kind: 'reset-soft-failure' } };
      return STAYS_UP;
    }
    const count = state.successCount + 1;
    if (count >= successcount) return { state: UP, transition: { kind: 'up', resetFrom: state.failCount } };
    const rising: RealCheckState = { status: 'down', failCount: 0, successCount: count };
    if (state.status === 'unknown') return { state: rising, transition: { kind: 'down', rising: { count, limit: successcount } } };
    return { state: rising, transition: { kind: 'soft-success', count, limit: successcount } };
  }
  if (state.status === 'down') return { state: state.successCount === 0 ? state : DOWN, transition: NO_TRANSITION };
  if (state.status === 'unknown') return { state: DOWN, transition: { kind: 'down' } };
  const count = state.failCount + 1;
  if (count >= failurecount) return { state: DOWN, transition: { kind: 'down' } };
  return { state: { status: 'up', failCount: count, successCount: 0 }, transition: { kind: 'soft-failure', count, limit: failurecount } };
}

/** Maintenance and checktype=off/on force a state without counting (spec §3.1). */
export function forceStatus(state: RealCheckState, status: 'up' | 'down'): { state: RealCheckState; transition: Transition } {
  const next = status === 'up' ? UP : DOWN;
  if (state.status === status) return { state: next, transition: NO_TRANSITION };
  return { state: next, transition: status === 'up' ? { kind: 'up', resetFrom: 0 } : { kind: 'down' } };
}
