// matchReceive: the same answers as the translated RegExp run synchronously, on every
// path (substring search, required-string proof, inline, worker), and a hostile subject
// or pattern that would stall a backtracking engine ends at the deadline without holding
// the event loop; the worker that was still matching is replaced.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { matchReceive, matchReceiveInline, type ReceivePath } from '../../checks/receive-match.js';
import { planReceive } from '../../checks/receive-plan.js';
import { RegexWorkerPool } from '../../checks/regex-worker-pool.js';
import { perlMatch, translatePerlRegex } from '../../lib/perl-regex/regex.js';
import { SUBJECTS, TRANSLATABLE } from './regex-corpus.js';

const pools: RegexWorkerPool[] = [];
const newPool = (maxWorkers = 2): RegexWorkerPool => {
  const pool = new RegexWorkerPool({ maxWorkers });
  pools.push(pool);
  return pool;
};
afterAll(() => {
  for (const pool of pools) pool.close();
});

const never = new AbortController().signal;

function regexOf(p: string): RegExp {
  const t = translatePerlRegex(p);
  if (!t.ok) throw new Error(t.error);
  return t.regex;
}

/** Runs `work` while sampling the event loop's delay; returns the worst delay in ms. */
async function worstLoopDelay<T>(work: () => Promise<T>): Promise<{ result: T; worstMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    const result = await work();
    return { result, worstMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}

describe('matchReceive agrees with the synchronous translation', () => {
  const pool = newPool();

  it('on the regex corpus, as strings and as bytes', async () => {
    const paths = new Set<ReceivePath>();
    const disagreements: string[] = [];
    for (const p of TRANSLATABLE) {
      const regex = regexOf(p);
      for (const s of SUBJECTS) {
        const expected = perlMatch(regex, s) ? 'match' : 'no-match';
        for (const subject of [s, Buffer.from(s, 'utf8')]) {
          const v = await matchReceive(p, subject, never, { pool, onPath: (x) => paths.add(x) });
          if (v.kind !== expected) disagreements.push(`${JSON.stringify(p)} on ${JSON.stringify(s)}: ${v.kind}, RegExp says ${expected}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect([...paths].sort()).toEqual(['inline', 'literal', 'required']);
  }, 120_000);

  it('on long subjects, where more of the corpus goes to the worker', async () => {
    const paths = new Set<ReceivePath>();
    const disagreements: string[] = [];
    const long = SUBJECTS.filter((_, k) => k % 6 === 0).map((s) => `${'x-'.repeat(3000)}${s}\n${'y'.repeat(6000)}`);
    for (const p of TRANSLATABLE) {
      const regex = regexOf(p);
      for (const s of long) {
        const expected = perlMatch(regex, s) ? 'match' : 'no-match';
        const v = await matchReceive(p, Buffer.from(s, 'utf8'), never, { pool, onPath: (x) => paths.add(x) });
        if (v.kind !== expected)
          disagreements.push(`${JSON.stringify(p)} on …${JSON.stringify(s.slice(6000, 6040))}: ${v.kind}, RegExp says ${expected}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(paths).toContain('worker');
  }, 120_000);

  it('matchReceiveInline: the RegExp verdict without a promise, undefined exactly where matchReceive goes to the worker', async () => {
    const disagreements: string[] = [];
    let toWorker = 0;
    const long = SUBJECTS.filter((_, k) => k % 6 === 0).map((s) => `${'x-'.repeat(3000)}${s}\n${'y'.repeat(6000)}`);
    for (const p of TRANSLATABLE) {
      const regex = regexOf(p);
      for (const s of [...SUBJECTS, ...long]) {
        const subject = Buffer.from(s, 'utf8');
        const expected = perlMatch(regex, s) ? 'match' : 'no-match';
        let path: ReceivePath | undefined;
        await matchReceive(p, subject, never, { pool, onPath: (x) => (path = x) });
        const inline = matchReceiveInline(p, subject);
        if (path === 'worker') {
          toWorker++;
          if (inline !== undefined) disagreements.push(`${JSON.stringify(p)}: inline answered ${inline.kind} where the worker was needed`);
        } else if (inline?.kind !== expected) {
          disagreements.push(`${JSON.stringify(p)} on ${JSON.stringify(s.slice(0, 40))}: inline ${inline?.kind}, RegExp says ${expected}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(toWorker).toBeGreaterThan(0);
  }, 120_000);

  it('in the worker itself, for every pattern of the corpus', async () => {
    const disagreements: string[] = [];
    for (const p of TRANSLATABLE) {
      const regex = regexOf(p);
      for (const s of SUBJECTS.filter((_, k) => k % 5 === 0)) {
        const expected = perlMatch(regex, s) ? 'match' : 'no-match';
        const v = await pool.match(regex, Buffer.from(s, 'utf8'), never);
        if (v.kind !== expected) disagreements.push(`${JSON.stringify(p)} on ${JSON.stringify(s)}: ${v.kind}, RegExp says ${expected}`);
      }
    }
    expect(disagreements).toEqual([]);
  }, 120_000);

  it('treats an empty receive as matching anything, and an untranslatable one as matching nothing', async () => {
    expect(await matchReceive('', 'whatever', never)).toEqual({ kind: 'match' });
    expect(await matchReceive('', '', never)).toEqual({ kind: 'match' });
    expect(await matchReceive('(?{ 1 })', 'x', never)).toEqual({ kind: 'no-match' });
  });
});

describe('receive-plan', () => {
  const plan = (p: string) => planReceive(regexOf(p).source);

  it('finds fixed strings and the strings every match contains', () => {
    expect(plan('It works').literal).toBe('It works');
    expect(plan('status.*up').literal).toBeNull();
    expect(plan('status.*up').required).toEqual(['status', 'up']);
    expect(plan('a(?!b)c').literal).toBeNull(); // an assertion is more than its bytes
    expect(plan('(?i)ok').required).toEqual([]);
    expect(plan('foo|bar').required).toEqual([]);
    expect(plan('x(foo|fob)y').required).toEqual(['x', 'y']);
    expect(plan('(?:ab)+c').required).toEqual(['ab', 'c']);
    expect(plan('a?bc').required).toEqual(['bc']);
  });

  it('bounds the work of simple patterns and refuses to bound nested repetition', () => {
    expect(plan('HTTP/1\\.[01] 200').workBound(4096)).toBeLessThan(1e6);
    expect(plan('status.*up').workBound(4096)).toBeGreaterThan(1e6);
    expect(plan('(a+)+$').workBound(10)).toBeGreaterThan(1e6);
    expect(plan('(a+)+$').workBound(100)).toBe(Infinity);
    expect(plan('(a|a)*b').workBound(64)).toBe(Infinity);
  });
});

describe('a hostile subject or pattern cannot stall the event loop', () => {
  it('proves "status.*up" cannot match 1 MiB of "status " without running the regex', async () => {
    let path: ReceivePath | undefined;
    const body = Buffer.from('status '.repeat(150_000));
    const started = performance.now();
    const v = await matchReceive('status.*up', body, never, { pool: newPool(), onPath: (p) => (path = p) });
    expect(v).toEqual({ kind: 'no-match' });
    expect(path).toBe('required');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('ends a quadratic match at the deadline, with the loop free meanwhile', async () => {
    const pool = newPool();
    // "up" first, so the required strings are there and the regex has to run.
    const body = Buffer.from(`up ${'status '.repeat(30_000)}`);
    const started = performance.now();
    const { result, worstMs } = await worstLoopDelay(() => matchReceive('status.*up', body, AbortSignal.timeout(1000), { pool }));
    const took = performance.now() - started;
    expect(result.kind).toBe('unfinished');
    if (result.kind === 'unfinished') expect(result.detail).toMatch(/^receive did not finish matching 210003 bytes within \d+\.\d s$/);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
    // The synchronous match takes many seconds; here the loop keeps turning.
    expect(worstMs).toBeLessThan(400);
  }, 20_000);

  it('ends an exponential match at the deadline, and the next match gets a fresh worker', async () => {
    const pool = newPool(1);
    const { result, worstMs } = await worstLoopDelay(() =>
      matchReceive('(a+)+$', `${'a'.repeat(40)}b`, AbortSignal.timeout(500), { pool }),
    );
    expect(result.kind).toBe('unfinished');
    expect(worstMs).toBeLessThan(400);
    expect(pool.started).toBe(1);
    expect(pool.size).toBe(0); // the worker still matching was terminated
    let path: ReceivePath | undefined;
    const next = await matchReceive('(a+)+$', 'aaaa', AbortSignal.timeout(10_000), { pool, onPath: (p) => (path = p) });
    expect(path).toBe('worker');
    expect(next).toEqual({ kind: 'match' });
    expect(pool.started).toBe(2);
    expect(pool.size).toBe(1);
  }, 20_000);

  it('serves a job that waited behind a bomb from the replacement worker', async () => {
    const pool = newPool(1);
    const bomb = pool.match(regexOf('(a+)+$'), Buffer.from(`${'a'.repeat(40)}b`), AbortSignal.timeout(500));
    const waiting = pool.match(regexOf('(a+)+$'), Buffer.from('aaa'), AbortSignal.timeout(20_000));
    const gaveUp = pool.match(regexOf('a'), Buffer.from('a'), AbortSignal.timeout(100));
    expect(await gaveUp).toEqual({ kind: 'aborted' }); // its own deadline came while it waited
    expect(await bomb).toEqual({ kind: 'aborted' });
    expect(await waiting).toEqual({ kind: 'match' });
    expect(pool.started).toBe(2);
  }, 30_000);

  it('answers at once when the signal has already aborted', async () => {
    const pool = newPool();
    const aborted = AbortSignal.abort();
    const v = await matchReceive('status.*up', Buffer.from(`up ${'status '.repeat(30_000)}`), aborted, { pool });
    expect(v.kind).toBe('unfinished');
    expect(pool.started).toBe(0);
  });
});
