// successcount (ldirectord-ts's rise threshold) in the pure hysteresis: a real
// that is not up comes back only after N passes in a row; failurecount is
// unchanged; successcount=1 is exactly the original's behaviour.
import { describe, expect, it } from 'vitest';
import { applyResult, forceStatus, INITIAL_STATE, type RealCheckState, type Transition } from '../../lib/daemon/hysteresis.js';

/** Folds results through applyResult; returns each transition and the final state. */
function run(start: RealCheckState, results: boolean[], failurecount: number, successcount: number) {
  let state = start;
  const transitions: Transition[] = [];
  for (const ok of results) {
    const r = applyResult(state, ok, failurecount, successcount);
    state = r.state;
    transitions.push(r.transition);
  }
  return { state, transitions };
}

const DOWN: RealCheckState = { status: 'down', failCount: 0, successCount: 0 };
const UP: RealCheckState = { status: 'up', failCount: 0, successCount: 0 };

describe('successcount', () => {
  it('1 (the default): a down real is up on its first pass, as in the original', () => {
    expect(run(DOWN, [true], 1, 1).transitions).toEqual([{ kind: 'up', resetFrom: 0 }]);
    expect(applyResult(DOWN, true, 1).transition).toEqual({ kind: 'up', resetFrom: 0 });
  });

  it('3: a down real needs three passes in a row; soft successes before that', () => {
    const r = run(DOWN, [true, true, true], 1, 3);
    expect(r.transitions).toEqual([
      { kind: 'soft-success', count: 1, limit: 3 },
      { kind: 'soft-success', count: 2, limit: 3 },
      { kind: 'up', resetFrom: 0 },
    ]);
    expect(r.state).toEqual(UP);
  });

  it('a failure while rising starts the count again, silently', () => {
    const r = run(DOWN, [true, true, false, true, true], 1, 3);
    expect(r.transitions.map((t) => t.kind)).toEqual(['soft-success', 'soft-success', 'none', 'soft-success', 'soft-success']);
    expect(r.state).toEqual({ status: 'down', failCount: 0, successCount: 2 });
    expect(applyResult(r.state, true, 1, 3).transition).toEqual({ kind: 'up', resetFrom: 0 });
  });

  it('an unknown real (start-up, new after a reload) is down while it rises: no traffic before N passes', () => {
    const r = run(INITIAL_STATE, [true, true], 1, 2);
    expect(r.transitions).toEqual([
      { kind: 'down', rising: { count: 1, limit: 2 } },
      { kind: 'up', resetFrom: 0 },
    ]);
    // and its first failure still decides at once
    expect(applyResult(INITIAL_STATE, false, 5, 2).transition).toEqual({ kind: 'down' });
  });

  it('does not change failurecount: an up real still goes down after N failures and is back after M passes', () => {
    const r = run(UP, [false, false, true, true, true], 2, 3);
    expect(r.transitions).toEqual([
      { kind: 'soft-failure', count: 1, limit: 2 },
      { kind: 'down' },
      { kind: 'soft-success', count: 1, limit: 3 },
      { kind: 'soft-success', count: 2, limit: 3 },
      { kind: 'up', resetFrom: 0 },
    ]);
  });

  it('an up real is unaffected by successcount (no re-rising after a soft failure)', () => {
    const r = run(UP, [false, true], 3, 5);
    expect(r.transitions).toEqual([{ kind: 'soft-failure', count: 1, limit: 3 }, { kind: 'reset-soft-failure' }]);
    expect(r.state).toEqual(UP);
  });

  it('forcing (maintenance, checktype=on/off) clears a rise in progress', () => {
    const rising = run(DOWN, [true, true], 1, 3).state;
    expect(forceStatus(rising, 'down')).toEqual({ state: DOWN, transition: { kind: 'none' } });
    expect(forceStatus(rising, 'up')).toEqual({ state: UP, transition: { kind: 'up', resetFrom: 0 } });
  });
});
