// The e-mail reminder table (spec §5 "Bookkeeping" and "Reminders"), pure:
// time is always passed in, in milliseconds.
//
// - Quiesce, readd or delete of a non-fallback real, with emailalertfreq > 0,
//   arms (or re-arms) the reminder for its alert id `<rip:port> (<v>)`.
// - Any other alert for the id (add, restore, fallback delete, purge), or any
//   alert while the id's emailalertfreq is 0, clears it.
// - `due(now)` returns the entries whose last alert is at least freq seconds
//   old and restarts their timers (sending the reminder counts as an alert).

export interface Reminder<T> {
  readonly id: string;
  readonly context: T;
}

interface Entry<T> {
  context: T;
  lastMs: number;
}

export class ReminderTable<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly freqOf: (context: T) => number;

  /** `freqOf` gives the effective emailalertfreq (seconds) for an entry's context. */
  constructor(freqOf: (context: T) => number) {
    this.freqOf = freqOf;
  }

  /**
   * Bookkeeping for one alert. `armAtMs` is the alert's time for a quiesce,
   * readd or delete of a non-fallback real, and null for everything else.
   */
  record(id: string, armAtMs: number | null, context: T): void {
    if (armAtMs === null || !(this.freqOf(context) > 0)) this.entries.delete(id);
    else this.entries.set(id, { context, lastMs: armAtMs });
  }

  /** The reminders due at `nowMs`, in arming order; their timers restart at `nowMs`. */
  due(nowMs: number): Reminder<T>[] {
    const out: Reminder<T>[] = [];
    for (const [id, e] of this.entries) {
      const freq = this.freqOf(e.context);
      if (!(freq > 0)) {
        this.entries.delete(id);
        continue;
      }
      if (nowMs - e.lastMs < freq * 1000) continue;
      e.lastMs = nowMs;
      out.push({ id, context: e.context });
    }
    return out;
  }

  /**
   * After a reload: each entry gets the context returned for it (the new
   * config's virtual), or is dropped when undefined is returned. Timers keep running.
   */
  rebind(next: (id: string, context: T) => T | undefined): void {
    for (const [id, e] of [...this.entries]) {
      const c = next(id, e.context);
      if (c === undefined) this.entries.delete(id);
      else e.context = c;
    }
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }
}
