// Runs a RegExp over a byte subject in a worker thread, so that a backtracking match
// that takes seconds (or forever) never holds the daemon's event loop. A match still
// running when its signal aborts is abandoned by terminating its worker (V8 interrupts
// a running regex), so one hostile subject costs at most one thread until its deadline.
//
// Workers start on demand, are unref'd (they never keep the process alive), and one
// that sits idle for a while exits. Each has its own SharedArrayBuffer for the subject:
// a job copies the bytes into it once, with no allocation and no serialisation.
import type { Worker } from 'node:worker_threads';
import { lazyModule } from './lazy-module.js';

// Loaded when the first worker starts (lazy-module.ts): most configs never match a regex
// that needs one, and node:worker_threads is resident memory of its own.
const workerThreads = lazyModule<typeof import('node:worker_threads')>('node:worker_threads');

export type WorkerVerdict =
  | { readonly kind: 'match' }
  | { readonly kind: 'no-match' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'error'; readonly message: string };

export interface RegexWorkerPoolOptions {
  /** Most threads matching at once; further jobs wait for one to be free. */
  readonly maxWorkers?: number;
  /** An idle worker beyond the first exits after this long. */
  readonly idleMs?: number;
}

// Plain CommonJS run with `eval: true`: no file to locate next to the module, which
// would differ between dist/, the CLI bundle and the tests' TypeScript sources.
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
let shared = workerData.shared;
const compiled = new Map();
function compile(source, flags) {
  const key = flags + '/' + source;
  let re = compiled.get(key);
  if (re === undefined) {
    re = new RegExp(source, flags);
    if (compiled.size >= 64) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}
parentPort.on('message', (job) => {
  if (job.shared !== undefined) { shared = job.shared; return; }
  let reply;
  try {
    const subject = Buffer.from(shared, 0, job.length).toString('latin1');
    reply = { id: job.id, matched: compile(job.source, job.flags).exec(subject) !== null };
  } catch (err) {
    reply = { id: job.id, error: String((err && err.message) || err) };
  }
  parentPort.postMessage(reply);
});
`;

interface Reply {
  readonly id: number;
  readonly matched?: boolean;
  readonly error?: string;
}

interface Job {
  readonly regex: RegExp;
  readonly subject: Uint8Array;
  readonly signal: AbortSignal;
  readonly resolve: (v: WorkerVerdict) => void;
}

const MIN_SHARED_BYTES = 64 * 1024;

class Slot {
  readonly worker: Worker;
  private shared: SharedArrayBuffer;
  private running: { id: number; job: Job; onAbort: () => void } | null = null;
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: RegexWorkerPool,
    sharedBytes: number,
  ) {
    this.shared = new SharedArrayBuffer(sharedBytes);
    this.worker = new (workerThreads().Worker)(WORKER_SOURCE, {
      eval: true,
      workerData: { shared: this.shared },
      // A match needs the subject (as a string) and the regex's backtrack stack.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', (reply: Reply) => this.onReply(reply));
    this.worker.on('error', (err: Error) => this.onExit(`regex worker failed: ${err.message}`));
    this.worker.on('exit', () => this.onExit('regex worker exited'));
    // Only a job in flight keeps the process alive (unref after the listeners: adding a
    // 'message' listener refs the worker again).
    this.worker.unref();
  }

  get busy(): boolean {
    return this.running !== null;
  }

  run(job: Job): void {
    this.clearIdle();
    const bytes = job.subject.byteLength;
    if (bytes > this.shared.byteLength) {
      let size = this.shared.byteLength;
      while (size < bytes) size *= 2;
      this.shared = new SharedArrayBuffer(size);
      this.worker.postMessage({ shared: this.shared });
    }
    new Uint8Array(this.shared, 0, bytes).set(job.subject);
    const id = this.nextId++;
    const onAbort = (): void => this.abandon(id);
    this.running = { id, job, onAbort };
    this.worker.ref();
    job.signal.addEventListener('abort', onAbort, { once: true });
    this.worker.postMessage({ id, source: job.regex.source, flags: job.regex.flags, length: bytes });
  }

  idleFor(ms: number): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => this.pool.retire(this), ms);
    this.idleTimer.unref();
  }

  terminate(): void {
    this.clearIdle();
    void this.worker.terminate();
  }

  private onReply(reply: Reply): void {
    const running = this.running;
    if (!running || running.id !== reply.id) return;
    this.finish(reply.error !== undefined ? { kind: 'error', message: reply.error } : { kind: reply.matched ? 'match' : 'no-match' });
    this.pool.released(this);
  }

  /** The deadline came first: the regex may run for ever, so the thread goes with it. */
  private abandon(id: number): void {
    if (this.running?.id !== id) return;
    this.finish({ kind: 'aborted' });
    this.pool.lost(this);
    this.terminate();
  }

  private onExit(message: string): void {
    if (this.running) this.finish({ kind: 'error', message });
    this.pool.lost(this);
  }

  private finish(verdict: WorkerVerdict): void {
    const running = this.running;
    if (!running) return;
    this.running = null;
    this.worker.unref();
    running.job.signal.removeEventListener('abort', running.onAbort);
    running.job.resolve(verdict);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

export class RegexWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly maxWorkers: number;
  private readonly idleMs: number;
  /** Workers started over the pool's life (replacements included): for tests and stats. */
  started = 0;

  constructor(options: RegexWorkerPoolOptions = {}) {
    this.maxWorkers = Math.max(1, options.maxWorkers ?? 4);
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** Threads alive now. */
  get size(): number {
    return this.slots.length;
  }

  /** `regex.exec(latin1(subject)) !== null`, settled by the time `signal` aborts. */
  match(regex: RegExp, subject: Uint8Array, signal: AbortSignal): Promise<WorkerVerdict> {
    if (signal.aborted) return Promise.resolve({ kind: 'aborted' });
    return new Promise((resolve) => {
      const job: Job = { regex, subject, signal, resolve };
      const slot = this.slots.find((s) => !s.busy) ?? this.spawn();
      if (slot) {
        slot.run(job);
        return;
      }
      this.queue.push(job);
      signal.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(job);
          if (at < 0) return;
          this.queue.splice(at, 1);
          resolve({ kind: 'aborted' });
        },
        { once: true },
      );
    });
  }

  /** Ends every worker: waiting jobs report 'aborted', running ones an error. */
  close(): void {
    for (const job of this.queue.splice(0)) job.resolve({ kind: 'aborted' });
    for (const slot of this.slots.splice(0)) slot.terminate();
  }

  /** @internal a slot finished its job. */
  released(slot: Slot): void {
    const next = this.queue.shift();
    if (next) {
      slot.run(next);
      return;
    }
    // One thread stays ready; more were needed only for a burst.
    if (this.slots.length > 1) slot.idleFor(this.idleMs);
  }

  /** @internal a slot is gone (terminated at a deadline, or died). */
  lost(slot: Slot): void {
    const at = this.slots.indexOf(slot);
    if (at < 0) return;
    this.slots.splice(at, 1);
    // A job waiting for a thread gets the replacement.
    const next = this.queue.shift();
    if (next) this.spawn()?.run(next);
  }

  /** @internal an idle slot's time is up. */
  retire(slot: Slot): void {
    if (slot.busy || this.slots.length <= 1) return;
    this.lost(slot);
    slot.terminate();
  }

  private spawn(): Slot | null {
    if (this.slots.length >= this.maxWorkers) return null;
    const slot = new Slot(this, MIN_SHARED_BYTES);
    this.slots.push(slot);
    this.started++;
    return slot;
  }
}
