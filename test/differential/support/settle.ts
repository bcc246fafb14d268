// When a phase is over: both directors have had time for every check the phase needs, the
// original has logged enough check passes, and neither table has changed for a while.
import type { Director } from './director.js';

export interface SettleOptions {
  /** At least this long after the event (at start: after the director put its virtuals in place). */
  readonly minMs: number;
  /** The start phase: count minMs from each director's "Added virtual server" line. */
  readonly fromVirtuals?: boolean;
  /** The original must have run this many check passes since the event. */
  readonly passes: number;
  /** Neither table may have changed for this long. */
  readonly quietMs: number;
  /** Give up (the phase is then reported as not settled). */
  readonly maxMs: number;
}

const CHECKING = /^DEBUG2: Checking /;
const CHECKED_ID = /^DEBUG2: Checking [^:]*: real server=(.*) \(virtual=[^)]*\)$/;
const DECIDED_ID = /^DEBUG2: (?:Enabled|Disabled) +real server=(\S+)/;

/**
 * At start: every real the original has checked has had its first result in ours too. Ours
 * logs "Enabled/Disabled real server=<id>" (debug) with the original's real ids, but nothing
 * when a whole round of first checks is done, and on a loaded machine that round can take
 * longer than any fixed wait.
 */
function firstResultsIn(original: Director, ours: Director, since: number): boolean {
  const ids = new Set<string>();
  for (const l of original.stderr) if (l.at >= since) ids.add(CHECKED_ID.exec(l.text)?.[1] ?? '');
  ids.delete('');
  for (const l of ours.stderr) if (l.at >= since) ids.delete(DECIDED_ID.exec(l.text)?.[1] ?? '');
  return ids.size === 0;
}

/** The original's passes since t: the most any one "Checking ..." line was repeated. */
export function passesSince(d: Director, t: number): number {
  const count = new Map<string, number>();
  for (const l of d.stderr) if (l.at >= t && CHECKING.test(l.text)) count.set(l.text, (count.get(l.text) ?? 0) + 1);
  return Math.max(0, ...count.values());
}

/** When the table last changed (ours also reads it with `-R`, so calls say nothing). */
function lastChange(d: Director): number {
  const h = d.ipvs.history;
  return h[h.length - 1]!.at;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const VIRTUAL_ADDED = /^Added virtual server: /;

/**
 * When this director's phase really began. A Node or Perl start-up can take seconds on a
 * loaded machine, and ours logs nothing when its first checks are done: its checks start
 * right after it has put the virtual services in place, so time is counted from there.
 */
function origin(d: Director, since: number, fromVirtuals: boolean): number | undefined {
  if (!fromVirtuals) return since;
  return d.log.find((l) => l.at >= since && VIRTUAL_ADDED.test(l.text))?.at;
}

/** Resolves true once settled, false after maxMs. */
export async function settle(directors: readonly Director[], since: number, o: SettleOptions): Promise<boolean> {
  for (;;) {
    const now = Date.now();
    const ok =
      directors.every((d) => {
        const from = origin(d, since, o.fromVirtuals ?? false);
        return from !== undefined && now - from >= o.minMs;
      }) &&
      directors.every((d) => d.which !== 'original' || passesSince(d, since) >= o.passes) &&
      (!o.fromVirtuals ||
        firstResultsIn(
          directors.find((d) => d.which === 'original')!,
          directors.find((d) => d.which === 'ours')!,
          since,
        )) &&
      directors.every((d) => now - lastChange(d) >= o.quietMs);
    if (ok) return true;
    if (now - since >= o.maxMs) return false;
    await sleep(200);
  }
}
