// Two ways for V8 to collect, one for each part of the daemon's life.
//
// Building (start-up, a reload): a config is parsed, then its table work is done. A reload
// parses in the mode the daemon is in (the reducing one once settled: the default mode lets
// a large parse grow the heap by a whole growing step over what is live, which made the
// daemon's highest RSS). Once the config is parsed, one compacting collection leaves its garbage
// behind, and the table work runs in V8's default mode: the reducing mode would collect
// and compact over and over during it, at about twice the CPU. At start-up the first checks
// of every real leave their garbage too: one more such collection before the convergence
// that adds the reals, or the heap holds both at the start-up's highest.
//
// Settled: the garbage is the checks' steady trickle. In the memory-reducing mode every full
// collection compacts and gives emptied pages back, and the old generation grows by a tenth
// or 2 MB, not a quarter or 8 MB, before the next one, so the heap stays near what is live.
// Where the checks promote little for the heap's size (connect checks at 10,000 reals) that
// costs little CPU per check; where they promote much for it (http checks at 1,000 reals)
// it costs more than the RSS it saves is worth. So the mode is taken only for a heap big
// enough for its RSS to matter (REDUCE_FROM_LIVE_BYTES live after the settling collection:
// a daemon below it stays well under 80 MB without), and left again when full collections
// come more than MAX_FULL_IN_WINDOW times in WINDOW_MS, until the next reload settles.
//
// A reload parses without V8's optimizing compiler. By then the parser's code has gone cold
// (V8 flushes what has not run for a while), and TurboFan, compiling it anew on its worker
// thread while the parse runs, fills that thread's malloc arena: at 10,000 reals the highest
// RSS of a reload. The parse costs no more CPU without it (the compiling is most of what it
// would save); the table work after the parse, and the checks, are optimized as before.
//
// A collection that falls during a build finds the old and the new state (or the start-up's
// burst) live, and V8 sizes the heap from it; so settling also collects once, at once after
// start-up and two seconds after a reload (what the dropped config's checks in flight need to
// end). These collections need node's --expose-gc (the launcher's #! line has it); without it
// the heap is judged as it stands, garbage included, and V8's own next collection sizes it.
// Figures: bench/RESULTS.md, "Memory at 10,000 reals", eighth, eleventh and twelfth passes.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

export const RELOAD_SETTLE_MS = 2000;
export const WINDOW_MS = 30_000;
export const MAX_FULL_IN_WINDOW = 6;
export const REDUCE_FROM_LIVE_BYTES = 16 * 2 ** 20;

/** What the regime needs of the process; the real one by default, a recorder in tests. */
export interface HeapControls {
  reduceMemory(on: boolean): void;
  /** Lets V8 optimize hot code (TurboFan), or keeps it to its interpreter and baseline code. */
  optimizing(on: boolean): void;
  /** Collects in full if it can; the heap's used bytes after. */
  collect(): number;
  /** Calls `onFull(atMs)` after each full collection until the returned function is called. */
  watchFullCollections(onFull: (atMs: number) => void): () => void;
}

const processHeap: HeapControls = {
  reduceMemory: (on) => setFlagsFromString(on ? '--optimize-for-size' : '--no-optimize-for-size'),
  // Read by V8 each time it decides whether to optimize a function: takes effect at once.
  optimizing: (on) => setFlagsFromString(on ? '--turbofan' : '--no-turbofan'),
  collect: () => {
    (globalThis as { gc?: () => void }).gc?.();
    return getHeapStatistics().used_heap_size;
  },
  watchFullCollections: (onFull) => {
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) onFull(e.startTime);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    return () => observer.disconnect();
  },
};

export class HeapRegime {
  /** Builds under way; the daemon is created building its start-up. */
  private builds = 1;
  private pending: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly heap: HeapControls = processHeap,
    private readonly reduceFromLiveBytes = REDUCE_FROM_LIVE_BYTES,
  ) {}

  /**
   * A build begins (a reload): no settling from an earlier build; it parses in the mode the
   * daemon is in, without the optimizing compiler.
   */
  building(): void {
    this.builds++;
    this.heap.optimizing(false);
    this.cancelSettling();
  }

  /** The build has parsed its config: one compacting collection, then V8's default mode for its table work. */
  parsed(): void {
    this.heap.optimizing(true);
    this.compact();
  }

  /**
   * A step of a build has left garbage the next step would pile onto (the start-up's first
   * checks of every real, before the convergence that adds them): one compacting
   * collection, then V8's default mode.
   */
  compact(): void {
    this.heap.reduceMemory(true);
    this.heap.collect();
    this.leaveReducing();
  }

  /**
   * A build ended (a failed one may not have parsed); once none is left, settle `afterMs`
   * later (unless another begins).
   */
  settled(afterMs: number): void {
    this.endBuild();
    if (this.builds > 0) return;
    this.cancelSettling();
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (this.heap.collect() >= this.reduceFromLiveBytes) this.enterReducing();
    }, afterMs);
    this.pending.unref();
  }

  /**
   * A build ended by a stop: the stop's own work (the purge, the last alerts) runs with the
   * optimizing compiler, whatever step the build had reached; nothing settles, as the
   * process is ending.
   */
  abandoned(): void {
    this.endBuild();
    this.cancelSettling();
  }

  private endBuild(): void {
    this.heap.optimizing(true);
    this.builds = Math.max(0, this.builds - 1);
  }

  private cancelSettling(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
  }

  private enterReducing(): void {
    this.unwatch?.();
    const fulls: number[] = [];
    this.unwatch = this.heap.watchFullCollections((at) => {
      fulls.push(at);
      while (fulls.length > 0 && fulls[0]! <= at - WINDOW_MS) fulls.shift();
      if (fulls.length > MAX_FULL_IN_WINDOW) this.leaveReducing();
    });
    this.heap.reduceMemory(true);
  }

  private leaveReducing(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.heap.reduceMemory(false);
  }
}
