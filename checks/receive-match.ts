// `subject =~ /receive/` for every checker, without letting one subject stall the daemon.
//
// The translated regex runs on a backtracking engine, where an ordinary pattern such as
// `status.*up` takes quadratic time over a body that repeats "status" without "up", and
// a nested repetition takes exponential time on a few bytes. So a match runs on the
// event loop only when its cost is bounded before it starts (receive-plan.ts):
//
// 1. a pattern that is a fixed string is a substring search;
// 2. a subject missing a string that every match contains cannot match (one scan each);
// 3. a pattern whose backtracking work over this subject's length is provably small
//    runs inline;
// 4. anything else runs in a worker thread (regex-worker-pool.ts) and is abandoned at
//    the check's deadline, which makes the check fail like any other timeout.
//
// The answers are those of the RegExp that translatePerlRegex makes: the fast paths only
// decide cases whose answer they can prove.
import { perlBytes, translatePerlRegex } from '../lib/perl-regex/regex.js';
import { planReceive, type ReceivePlan } from './receive-plan.js';
import { RegexWorkerPool } from './regex-worker-pool.js';

export type ReceiveVerdict =
  | { readonly kind: 'match' }
  | { readonly kind: 'no-match' }
  /** No answer: the deadline came first, or the engine failed. `detail` says which. */
  | { readonly kind: 'unfinished'; readonly detail: string };

/** How a verdict was reached (tests and benchmarks look at it). */
export type ReceivePath = 'literal' | 'required' | 'inline' | 'worker';

/**
 * Most backtracking steps (receive-plan's bound, which is far above what the engine
 * really takes) allowed on the event loop: well under a millisecond of regex work.
 */
export const INLINE_WORK_BUDGET = 1_000_000;

const MATCH: ReceiveVerdict = { kind: 'match' };
const NO_MATCH: ReceiveVerdict = { kind: 'no-match' };

const plans = new Map<string, ReceivePlan>();

function planFor(regex: RegExp): ReceivePlan {
  let plan = plans.get(regex.source);
  if (plan === undefined) {
    plan = planReceive(regex.source);
    if (plans.size >= 1000) plans.clear();
    plans.set(regex.source, plan);
  }
  return plan;
}

let sharedPool: RegexWorkerPool | undefined;

/** The process's pool of matching threads (started on first use). */
export function receivePool(): RegexWorkerPool {
  return (sharedPool ??= new RegexWorkerPool());
}

export interface MatchReceiveOptions {
  readonly pool?: RegexWorkerPool;
  /** Called with the path taken (for tests and benchmarks). */
  readonly onPath?: (path: ReceivePath) => void;
}

/**
 * `subject =~ /receive/` as the original does it (Perl dialect, byte semantics: strings
 * are taken as UTF-8 text). Settles by the time `signal` aborts. A receive the
 * translator cannot express never matches (the config parser reports it).
 */
export async function matchReceive(
  receive: string,
  subject: string | Uint8Array,
  signal: AbortSignal,
  options: MatchReceiveOptions = {},
): Promise<ReceiveVerdict> {
  const inline = matchReceiveInline(receive, subject, options.onPath);
  if (inline !== undefined) return inline;
  const regex = (translatePerlRegex(receive) as { regex: RegExp }).regex;
  const text = typeof subject === 'string' ? perlBytes(subject) : null;
  const bytes = text === null ? asBuffer(subject as Uint8Array) : null;
  const length = text !== null ? text.length : (bytes as Buffer).length;
  options.onPath?.('worker');
  const started = performance.now();
  const pool = options.pool ?? receivePool();
  const verdict = await pool.match(regex, bytes ?? Buffer.from(text as string, 'latin1'), signal);
  switch (verdict.kind) {
    case 'match':
      return MATCH;
    case 'no-match':
      return NO_MATCH;
    case 'aborted': {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      return { kind: 'unfinished', detail: `receive did not finish matching ${length} bytes within ${seconds} s` };
    }
    case 'error':
      return { kind: 'unfinished', detail: `receive could not be matched: ${verdict.message}` };
  }
}

function asBuffer(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * matchReceive()'s verdict when it can be had on the event loop at a bounded cost (the
 * paths literal, required and inline), without a promise; undefined when the match must
 * run in a worker.
 */
export function matchReceiveInline(
  receive: string,
  subject: string | Uint8Array,
  onPath?: (path: ReceivePath) => void,
): ReceiveVerdict | undefined {
  const t = translatePerlRegex(receive);
  if (!t.ok) return NO_MATCH;
  const regex = t.regex;
  const plan = planFor(regex);
  const text = typeof subject === 'string' ? perlBytes(subject) : null;
  const bytes = text === null ? asBuffer(subject as Uint8Array) : null;
  if (plan.literal !== null) {
    onPath?.('literal');
    return contains(text, bytes, plan.literal) ? MATCH : NO_MATCH;
  }
  for (const s of plan.required) {
    if (!contains(text, bytes, s)) {
      onPath?.('required');
      return NO_MATCH;
    }
  }
  const length = text !== null ? text.length : (bytes as Buffer).length;
  if (plan.workBound(length) <= INLINE_WORK_BUDGET) {
    onPath?.('inline');
    return regex.exec(text ?? (bytes as Buffer).toString('latin1')) !== null ? MATCH : NO_MATCH;
  }
  return undefined;
}

function contains(text: string | null, bytes: Buffer | null, s: string): boolean {
  return text !== null ? text.includes(s) : (bytes as Buffer).indexOf(s, 0, 'latin1') >= 0;
}
