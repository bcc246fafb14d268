// The drift check when it meets a convergence: a tick that comes while one is under way, a
// convergence that begins while the drift check reads the table, and the convergence after
// one that ipvsadm failed. The drift ticks are the test's own (checkinterval is far beyond
// the test), so that what repairs the table is the code path under test, not a later tick.
import { afterEach, describe, expect, it } from 'vitest';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import type { IpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { parse } from '../config/parse-helpers.js';
import { closeHarnesses, running, waitFor, type Harness } from './helpers/director-harness.js';

afterEach(closeHarnesses);

const TWO = `checkinterval=60
quiescent=yes
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 3
    real=127.0.0.3:80 masq 1
virtual=192.0.2.2:80
    real=127.0.0.4:80 masq
`;
const UP = ['127.0.0.2:80', '127.0.0.3:80', '127.0.0.4:80'];
const A = 'tcp:192.0.2.1:80';
const B = 'tcp:192.0.2.2:80';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Match = (args: readonly string[], input: string) => boolean;

const lines = (input: string): string[] => input.split('\n').filter((l) => l !== '');
/** An `ipvsadm -R` that changes the table (its read-back listings follow the changes). */
const changing: Match = (args, input) => args.join(' ') === '-R' && lines(input).some((l) => !l.startsWith('-L'));
/** An `ipvsadm -R` that only lists: a read. */
const listingOnly: Match = (args, input) =>
  args.join(' ') === '-R' && lines(input).length > 0 && lines(input).every((l) => l.startsWith('-L'));

/** Between the director and the fake: holds one chosen run until released, or fails every run. */
class Valve {
  started = 0;
  /** While set, each run fails as an ipvsadm killed at its deadline does. */
  failing = false;
  private hold: { readonly match: Match; readonly reached: () => void; readonly gate: Promise<void> } | undefined;

  readonly wrap = (inner: IpvsadmRunner): IpvsadmRunner => ({
    path: inner.path,
    run: async (args, input, onStdout) => {
      this.started++;
      if (this.failing) throw new IpvsadmError('timeout', 'ipvsadm did not finish in time (killed)', { args });
      const hold = this.hold;
      if (hold?.match(args, input ?? '')) {
        this.hold = undefined;
        hold.reached();
        await hold.gate;
      }
      return inner.run(args, input, onStdout);
    },
  });

  /** The next run `match` picks waits, before it reaches the fake, until release(). */
  holdNext(match: Match): { readonly reached: Promise<void>; release(): void } {
    let reached = (): void => undefined;
    let release = (): void => undefined;
    const isReached = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    this.hold = { match, reached, gate };
    return { reached: isReached, release };
  }
}

const tick = (h: Harness): void => h.events.emit({ type: 'converge-wanted', why: 'drift-check' });

function scopesOf(h: Harness): (string[] | 'all')[] {
  const scopes: (string[] | 'all')[] = [];
  h.events.on('converged', ({ scope }) => scopes.push(scope ? [...scope].sort() : 'all'));
  return scopes;
}

/**
 * Ticks until one runs no ipvsadm: a drift check has found the table right and taken what
 * /proc shows as right, so that a later tick reads in full only when told to.
 */
async function untilQuiet(h: Harness, valve: Valve): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const n = valve.started;
    tick(h);
    await sleep(500);
    if (valve.started === n) return;
  }
  throw new Error('every drift check ran ipvsadm');
}

describe('Director: the drift check beside convergences', () => {
  it('a tick during a convergence waits for it, then repairs only what drifted meanwhile', async () => {
    const valve = new Valve();
    const h = await running(TWO, UP, { wrapRunner: valve.wrap });
    const right = h.table();
    const scopes = scopesOf(h);
    const held = valve.holdNext(changing);
    h.fake.sh('-e', '-t', '192.0.2.1:80', '-r', '127.0.0.2:80', '-m', '-w', '9');
    const converging = h.director.requestConverge(new Set([A]));
    await held.reached;
    // Behind the director's back while its batch is held: only the deferred drift check can see it.
    h.fake.sh('-e', '-t', '192.0.2.2:80', '-r', '127.0.0.4:80', '-m', '-w', '9');
    tick(h);
    held.release();
    await converging;
    await waitFor(() => scopes.length >= 2, 5000);
    // Not a whole-table convergence queued behind the held one.
    expect(scopes).toEqual([[A], [B]]);
    expect(h.table()).toEqual(right);
  });

  it('a convergence that begins during the drift check read: only the services found to differ are handed on', async () => {
    const valve = new Valve();
    const h = await running(TWO, UP, { wrapRunner: valve.wrap });
    const right = h.table();
    const scopes = scopesOf(h);
    h.fake.sh('-e', '-t', '192.0.2.2:80', '-r', '127.0.0.4:80', '-m', '-w', '9');
    const held = valve.holdNext(listingOnly);
    tick(h);
    await held.reached;
    // As a check result of the other virtual would, while the drift check's listing is held.
    void h.director.requestConverge(new Set([A]));
    held.release();
    await waitFor(() => scopes.length >= 2, 5000);
    expect(scopes).toEqual([[A], [B]]);
    expect(h.table()).toEqual(right);
  });

  it('a convergence ipvsadm failed: the next drift check converges its services though /proc and their lines are unchanged', async () => {
    const valve = new Valve();
    const h = await running(TWO, UP, { proc: true, wrapRunner: valve.wrap });
    const right = h.table();
    // With /proc taken as right, only an unsettled service makes a drift check read in full.
    await untilQuiet(h, valve);
    const scopes = scopesOf(h);
    const heavier = (await parse(TWO.replace('masq 3', 'masq 5'))).config!;
    valve.failing = true;
    await h.director.reload(heavier);
    expect(h.director.ipvsError).not.toBe('');
    expect(h.table()).toEqual(right);
    valve.failing = false;
    tick(h);
    await waitFor(() => scopes.length >= 2, 5000);
    expect(scopes).toEqual([[A], [A]]);
    expect(h.table()).toEqual(right.map((l) => l.replace('127.0.0.2:80 -m -w 3', '127.0.0.2:80 -m -w 5')));
  });
});
