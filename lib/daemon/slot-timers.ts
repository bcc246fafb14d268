// Timers grouped into slots: everything due within the same `slotMs` shares one Node
// timer. The check runner would otherwise keep two Node timers in flight per real (one
// schedule and one deadline per check); in 20 ms slots a 5 s interval has at most 250 of
// each, however many reals, and no AbortController per check.
// A due time is rounded up to its slot: nothing fires early, nothing more than slotMs late.
import { setMaxListeners } from 'node:events';

export const SLOT_MS = 20;

const slotOf = (due: number, slotMs: number): number => Math.ceil(due / slotMs) * slotMs;

/** Calls `fire(item)` once each item's due time has come; items can be taken back. */
export class SlotTimers<T> {
  private readonly slots = new Map<number, { timer: NodeJS.Timeout; items: Set<T> }>();

  constructor(
    private readonly fire: (item: T) => void,
    private readonly now: () => number,
    private readonly slotMs = SLOT_MS,
  ) {}

  /** Schedules `item` at `due`; returns the slot to pass to remove(). */
  add(item: T, due: number): number {
    const key = slotOf(due, this.slotMs);
    let slot = this.slots.get(key);
    if (!slot) {
      const items = new Set<T>();
      const timer = setTimeout(
        () => {
          this.slots.delete(key);
          for (const it of items) this.fire(it);
        },
        Math.max(0, key - this.now()),
      );
      this.slots.set(key, (slot = { timer, items }));
    }
    slot.items.add(item);
    return key;
  }

  remove(item: T, key: number): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    slot.items.delete(item);
    if (slot.items.size === 0) {
      clearTimeout(slot.timer);
      this.slots.delete(key);
    }
  }

  clear(): void {
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
  }
}

export interface Deadline {
  /** Aborts at the deadline (shared by every check of the slot). */
  readonly signal: AbortSignal;
  /**
   * Resolves `graceMs` after the abort: for probes that ignore their signal. One per
   * check, dropped by release(): a promise shared by the slot would keep every finished
   * check's race (its result and closures) reachable until the deadline, 3 s later, so
   * that all of it survived the young generation and raised the peak memory.
   */
  readonly expired: Promise<void>;
  /** The check is over (whatever its outcome): the slot's timer goes when none is left. */
  release(): void;
}

interface DeadlineSlot {
  readonly controller: AbortController;
  readonly timer: NodeJS.Timeout;
  /** The `expired` resolvers of the checks not yet released. */
  readonly waiters: Set<() => void>;
}

/** One AbortController and one timer per slot of deadlines, shared by the checks in it. */
export class DeadlineSlots {
  private readonly slots = new Map<number, DeadlineSlot>();

  constructor(
    private readonly now: () => number,
    private readonly graceMs: number,
    private readonly slotMs = SLOT_MS,
  ) {}

  join(due: number, reason: () => Error): Deadline {
    const key = slotOf(due, this.slotMs);
    let slot = this.slots.get(key);
    if (!slot) {
      const controller = new AbortController();
      // every check of the slot listens on this one signal
      setMaxListeners(0, controller.signal);
      const waiters = new Set<() => void>();
      const timer = setTimeout(
        () => {
          this.slots.delete(key);
          controller.abort(reason());
          // Give well-behaved probes a moment to report their own timeout message.
          setTimeout(() => {
            for (const expire of waiters) expire();
            waiters.clear();
          }, this.graceMs);
        },
        Math.max(0, key - this.now()),
      );
      this.slots.set(key, (slot = { controller, timer, waiters }));
    }
    const joined = slot;
    let expire!: () => void;
    const expired = new Promise<void>((resolve) => (expire = resolve));
    joined.waiters.add(expire);
    const release = (): void => {
      if (!joined.waiters.delete(expire)) return;
      // After the abort the slot is out of the map (a new one may have its key).
      if (joined.waiters.size === 0 && this.slots.get(key) === joined) {
        clearTimeout(joined.timer);
        this.slots.delete(key);
      }
    };
    return { signal: joined.controller.signal, expired, release };
  }
}
