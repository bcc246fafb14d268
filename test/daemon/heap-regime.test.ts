import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  HeapRegime,
  MAX_FULL_IN_WINDOW,
  REDUCE_FROM_LIVE_BYTES,
  RELOAD_SETTLE_MS,
  WINDOW_MS,
  type HeapControls,
} from '../../lib/app/heap-regime.js';

function recorder(live = REDUCE_FROM_LIVE_BYTES): HeapControls & { calls: string[]; compiler: string[]; full: (atMs: number) => void } {
  const calls: string[] = [];
  const compiler: string[] = [];
  let onFull: ((atMs: number) => void) | undefined;
  return {
    calls,
    compiler,
    reduceMemory: (on) => calls.push(on ? 'reduce' : 'default'),
    optimizing: (on) => compiler.push(on ? 'optimizing' : 'not optimizing'),
    collect: () => {
      calls.push('collect');
      return live;
    },
    watchFullCollections: (f) => {
      calls.push('watch');
      onFull = f;
      return () => {
        calls.push('unwatch');
        onFull = undefined;
      };
    },
    full: (at) => onFull?.(at),
  };
}

/** A regime whose start-up has settled, with what that did to `heap` forgotten. */
function settledAfterStartUp(heap: ReturnType<typeof recorder>): HeapRegime {
  const regime = new HeapRegime(heap);
  regime.settled(0);
  vi.advanceTimersByTime(0);
  heap.calls.length = 0;
  return regime;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HeapRegime', () => {
  it('settles once start-up has: the reducing mode, then one collection', () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = new HeapRegime(heap);
    expect(heap.calls).toEqual([]);
    regime.settled(0);
    vi.advanceTimersByTime(0);
    expect(heap.calls).toEqual(['collect', 'watch', 'reduce']);
    vi.advanceTimersByTime(60_000);
    expect(heap.calls).toEqual(['collect', 'watch', 'reduce']);
  });

  it('keeps the default mode for a heap that stays small', () => {
    vi.useFakeTimers();
    const heap = recorder(REDUCE_FROM_LIVE_BYTES - 1);
    const regime = new HeapRegime(heap);
    regime.settled(0);
    vi.advanceTimersByTime(0);
    expect(heap.calls).toEqual(['collect']);
  });

  it(`leaves the reducing mode when more than ${MAX_FULL_IN_WINDOW} full collections come within ${WINDOW_MS} ms`, () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = settledAfterStartUp(heap);
    // As many as allowed, each window's worth spread: the mode stays.
    const step = WINDOW_MS / MAX_FULL_IN_WINDOW;
    for (let i = 1; i <= 3 * MAX_FULL_IN_WINDOW; i++) heap.full(i * step);
    expect(heap.calls).toEqual([]);
    // One more within the last window: back to the default mode, watching no more.
    heap.full(3 * MAX_FULL_IN_WINDOW * step + 1);
    expect(heap.calls).toEqual(['unwatch', 'default']);
    heap.full(3 * MAX_FULL_IN_WINDOW * step + 2);
    expect(heap.calls).toEqual(['unwatch', 'default']);
    // The next reload that settles tries the reducing mode again.
    regime.building();
    regime.settled(RELOAD_SETTLE_MS);
    vi.advanceTimersByTime(RELOAD_SETTLE_MS);
    expect(heap.calls).toEqual(['unwatch', 'default', 'collect', 'watch', 'reduce']);
  });

  it('parses a reload in the mode it is in, compacts once parsed, does its table work in the default mode', () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = settledAfterStartUp(heap);
    regime.building();
    expect(heap.calls).toEqual([]);
    regime.parsed();
    expect(heap.calls).toEqual(['reduce', 'collect', 'unwatch', 'default']);
  });

  it("compacts once between a build's steps (the start-up's first checks), then the default mode", () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = new HeapRegime(heap);
    regime.compact();
    expect(heap.calls).toEqual(['reduce', 'collect', 'default']);
    expect(heap.compiler).toEqual([]);
  });

  it('parses a reload without the optimizing compiler, and takes it back once parsed or once the reload ends', () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = settledAfterStartUp(heap);
    heap.compiler.length = 0;
    regime.building();
    expect(heap.compiler).toEqual(['not optimizing']);
    regime.parsed();
    expect(heap.compiler).toEqual(['not optimizing', 'optimizing']);
    regime.settled(RELOAD_SETTLE_MS);
    // A reload whose config never parsed (a file gone, errors in it) ends without parsed().
    heap.compiler.length = 0;
    regime.building();
    regime.settled(RELOAD_SETTLE_MS);
    expect(heap.compiler).toEqual(['not optimizing', 'optimizing']);
  });

  it('a build abandoned for a stop takes the optimizing compiler back and settles nothing', () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = settledAfterStartUp(heap);
    heap.compiler.length = 0;
    heap.calls.length = 0;
    regime.building();
    regime.abandoned();
    expect(heap.compiler).toEqual(['not optimizing', 'optimizing']);
    vi.advanceTimersByTime(RELOAD_SETTLE_MS * 2);
    expect(heap.calls).toEqual([]);
  });

  it('settles two seconds after the last of several reloads', () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = settledAfterStartUp(heap);
    regime.building();
    regime.parsed();
    regime.settled(RELOAD_SETTLE_MS);
    vi.advanceTimersByTime(RELOAD_SETTLE_MS - 500);
    regime.building();
    regime.parsed();
    regime.settled(RELOAD_SETTLE_MS);
    heap.calls.length = 0;
    vi.advanceTimersByTime(RELOAD_SETTLE_MS - 100);
    expect(heap.calls).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(heap.calls).toEqual(['collect', 'watch', 'reduce']);
  });

  it('does not settle while a reload begun during start-up still builds', () => {
    vi.useFakeTimers();
    const heap = recorder();
    const regime = new HeapRegime(heap);
    regime.building();
    regime.settled(0);
    vi.advanceTimersByTime(10_000);
    expect(heap.calls).toEqual([]);
    regime.settled(RELOAD_SETTLE_MS);
    vi.advanceTimersByTime(RELOAD_SETTLE_MS);
    expect(heap.calls).toEqual(['collect', 'watch', 'reduce']);
  });

  it("keeps this node's V8 from optimizing code while a reload parses, and lets it once parsed", () => {
    // %GetOptimizationStatus bit 4: the function runs optimized code. Each function is run
    // until V8 optimizes it or 3 s have passed; V8 optimizes a hot loop in milliseconds.
    const script = `
      import { HeapRegime } from ${JSON.stringify(new URL('../../dist/lib/app/heap-regime.js', import.meta.url).href)};
      const regime = new HeapRegime();
      const hot = () => {
        const f = new Function('n', 'let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s;');
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          f(100000);
          if (%GetOptimizationStatus(f) & 16) return 'optimized';
        }
        return 'not optimized';
      };
      regime.building();
      const whileParsing = hot();
      regime.parsed();
      process.stdout.write(JSON.stringify([whileParsing, hot()]));
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    expect(JSON.parse(out)).toEqual(['not optimized', 'optimized']);
  }, 30_000);

  it("switches this node's V8 to its memory-reducing collections, and back when they come too often", () => {
    // V8 reads the flag when it next collects; its trace marks those collections "(reduce)".
    // The churn keeps a few MB live and yields between rounds, so that the regime hears of
    // the collections as a daemon's event loop would.
    const script = `
      import { HeapRegime } from ${JSON.stringify(new URL('../../dist/lib/app/heap-regime.js', import.meta.url).href)};
      const regime = new HeapRegime(undefined, Number(process.argv[1]));
      let keep = [];
      const churn = async (rounds) => {
        for (let r = 0; r < rounds; r++) {
          for (let i = 0; i < 20000; i++) keep.push({ i, s: 'x' + i });
          keep = keep.slice(-100000);
          await new Promise((res) => setImmediate(res));
        }
      };
      const phase = (name) => process.stdout.write('phase ' + name + '\\n');
      phase('start-up'); await churn(40);
      regime.settled(0);
      await new Promise((r) => setTimeout(r, 10));
      phase('settled'); await churn(200);
      phase('parsing');
      regime.building();
      regime.parsed();
      phase('building'); await churn(40);
    `;
    const traced = (reduceFromLiveBytes: number) => {
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', '--trace-gc', '--input-type=module', '-e', script, String(reduceFromLiveBytes)],
        {
          encoding: 'utf8',
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
        },
      );
      const phases = out.split(/^phase /m).slice(1);
      return (name: string) => {
        const text = phases.find((p) => p.startsWith(name)) ?? '';
        return text.split('\n').filter((l) => l.includes('Mark-Compact'));
      };
    };
    const reducing = (l: string) => l.includes('(reduce)');
    // The churn keeps a few MB live: more than 1 MB, far less than 64 MB.
    const small = traced(64 * 2 ** 20)('settled');
    expect(small.length).toBeGreaterThan(0);
    expect(small.filter(reducing)).toEqual([]);
    const fulls = traced(2 ** 20);
    expect(fulls('start-up').length).toBeGreaterThan(0);
    expect(fulls('start-up').filter(reducing)).toEqual([]);
    const settled = fulls('settled');
    expect(reducing(settled[0] ?? '')).toBe(true);
    const firstDefault = settled.findIndex((l) => !reducing(l));
    expect(firstDefault).toBeGreaterThan(MAX_FULL_IN_WINDOW);
    expect(settled.slice(firstDefault).filter(reducing)).toEqual([]);
    // once parsed, one collection, then the table work in the default mode
    expect(fulls('parsing')).toHaveLength(1);
    expect(fulls('building').length).toBeGreaterThan(0);
    expect(fulls('building').filter(reducing)).toEqual([]);
  }, 60_000);
});
