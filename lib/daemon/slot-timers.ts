// Timers grouped into slots: everything due within the same `slotMs` shares one Node
// timer. The check runner would otherwise keep two Node timers in flight per real (one
// schedule and one deadline per check); in 20 ms slots a 5 s interval has at most 250 of
// each, however many reals, and no AbortController per check.
// A due time is rounded up to its slot: nothing fires early, nothing more than slotMs late
// while the loop keeps up.
import { getEventListeners, setMaxListeners } from 'node:events';

export const SLOT_MS = 20;

/**
 * Slots numbered from a multiple of slotMs taken at construction, so that slot n is at
 * `origin + n * slotMs` and every slot is at a multiple of slotMs, as it would be were
 * it keyed by its time. Numbered, not keyed by time: a time in ms since the epoch is
 * past V8's small integers, so each key would be a boxed number, allocated and hashed
 * as such, at every add and lookup (twice per check).
 */
class SlotNumbers {
  private readonly origin: number;

  constructor(
    now: number,
    private readonly slotMs: number,
  ) {
    this.origin = Math.floor(now / slotMs) * slotMs;
  }

  /** The slot of `due`: the first at or after it. */
  of(due: number): number {
    return Math.ceil((due - this.origin) / this.slotMs);
  }

  timeOf(slot: number): number {
    return this.origin + slot * this.slotMs;
  }
}

/** How long due items may keep firing in one turn of the event loop; see SlotTimers. */
export const FIRE_BUDGET_MS = 20;

/**
 * A slot timer that fires more than this after its time finds a loop that was busy
 * meanwhile, not waiting on I/O: completions may be waiting, unread, in the poll queue.
 */
const LATE_MS = 2;

const isLate = (slotTime: number, now: number): boolean => now - slotTime > LATE_MS;

/**
 * Calls `fire(item)` once each item's due time has come; items can be taken back.
 * A slot whose timer fires on time fires its items at once. A loop that fell behind (a
 * busy second, a stall of the machine) finds many slots due at once: firing them all in
 * the timers phase would start a burst of checks while the completions of the checks in
 * flight wait, unread, in the poll queue, and their deadlines pass meanwhile. So late
 * slots fire after the loop's I/O poll (setImmediate), and items fire for at most
 * `budgetMs` per turn of the loop, the rest in the next turns. A budget of time, not of
 * items: on a loaded machine a turn of the loop is long, and a fixed number of checks per
 * turn would start fewer checks per second than the reals need.
 */
export class SlotTimers<T> {
  private readonly slots = new Map<number, { timer: NodeJS.Timeout; items: Set<T> }>();
  /** Due items not fired yet, in due order. */
  private readonly ready = new Set<T>();
  private draining: NodeJS.Immediate | undefined;
  private readonly numbers: SlotNumbers;

  constructor(
    private readonly fire: (item: T) => void,
    private readonly now: () => number,
    slotMs = SLOT_MS,
    private readonly budgetMs = FIRE_BUDGET_MS,
  ) {
    this.numbers = new SlotNumbers(now(), slotMs);
  }

  /** Schedules `item` at `due`; returns the slot to pass to remove(). */
  add(item: T, due: number): number {
    const key = this.numbers.of(due);
    let slot = this.slots.get(key);
    if (!slot) {
      const items = new Set<T>();
      const at = this.numbers.timeOf(key);
      const timer = setTimeout(
        () => {
          this.slots.delete(key);
          for (const it of items) this.ready.add(it);
          if (this.draining === undefined && !isLate(at, this.now())) this.drain();
          else this.draining ??= setImmediate(this.drain);
        },
        Math.max(0, at - this.now()),
      );
      this.slots.set(key, (slot = { timer, items }));
    }
    slot.items.add(item);
    return key;
  }

  remove(item: T, key: number): void {
    this.ready.delete(item);
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
    this.ready.clear();
    if (this.draining) clearImmediate(this.draining);
    this.draining = undefined;
  }

  /** Fires ready items for up to budgetMs; the rest wait for the next turn. */
  private readonly drain = (): void => {
    this.draining = undefined;
    const until = this.now() + this.budgetMs;
    let n = 0;
    for (const it of this.ready) {
      // The clock is read every few items: starting a check takes microseconds.
      if ((++n & 15) === 0 && this.now() > until) {
        this.draining = setImmediate(this.drain);
        return;
      }
      this.ready.delete(it);
      this.fire(it);
    }
  };
}

export interface Deadline {
  /**
   * Aborts at the deadline (shared by every check of the slot). Once the slot's checks are
   * all released it may serve a later slot: a probe keeps no listener on it past its end.
   */
  readonly signal: AbortSignal;
  /**
   * Resolves `graceMs` after the abort: for probes that ignore their signal. Made on first
   * use, dropped by release(): a promise shared by the slot would keep every finished
   * check's race (its result and closures) reachable until the deadline, 3 s later, so
   * that all of it survived the young generation and raised the peak memory.
   */
  readonly expired: Promise<void>;
  /** The check is over (whatever its outcome): the slot's timer goes when none is left. */
  release(): void;
}

interface DeadlineSlot {
  readonly key: number;
  readonly controller: AbortController;
  readonly timer: NodeJS.Timeout;
  /** The checks not yet released. */
  readonly waiters: Set<SlotDeadline>;
}

/**
 * What a check that ignores its signal is ended by, `graceMs` after the abort: an object
 * of the check's own, not a closure made for every check.
 */
export interface Expiring {
  expired(): void;
}

/** One check's membership of a slot; `onExpire` runs `graceMs` after the abort unless released first. */
class SlotDeadline implements Deadline {
  private resolveExpired: (() => void) | undefined;
  private expiredPromise: Promise<void> | undefined;

  constructor(
    private readonly owner: DeadlineSlots,
    private readonly slot: DeadlineSlot,
    private readonly onExpire: Expiring | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.slot.controller.signal;
  }

  get expired(): Promise<void> {
    return (this.expiredPromise ??= new Promise<void>((resolve) => (this.resolveExpired = resolve)));
  }

  expire(): void {
    this.onExpire?.expired();
    this.resolveExpired?.();
  }

  release(): void {
    this.owner.leave(this.slot, this);
  }
}

/**
 * Controllers kept for reuse: a slot's checks usually all end long before its deadline,
 * and Node makes an AbortSignal slowly (an EventTarget whose prototype is changed after it
 * is built), more slowly than the rest of a slot's bookkeeping together.
 */
const SPARE_CONTROLLERS = 32;

/** One AbortController and one timer per slot of deadlines, shared by the checks in it. */
export class DeadlineSlots {
  private readonly slots = new Map<number, DeadlineSlot>();
  /** Controllers of slots that ended before their deadline, never aborted, no listener left. */
  private readonly spare: AbortController[] = [];
  private readonly numbers: SlotNumbers;

  constructor(
    private readonly now: () => number,
    private readonly graceMs: number,
    slotMs = SLOT_MS,
  ) {
    this.numbers = new SlotNumbers(now(), slotMs);
  }

  /**
   * Joins the slot of `due`. `onExpire.expired()`: called `graceMs` after the abort if the
   * check has not been released by then (the same moment `expired` resolves; cheaper than it).
   */
  join(due: number, reason: () => Error, onExpire?: Expiring): Deadline {
    const key = this.numbers.of(due);
    let slot = this.slots.get(key);
    if (!slot) {
      const at = this.numbers.timeOf(key);
      const controller = this.spare.pop() ?? this.newController();
      const waiters = new Set<SlotDeadline>();
      const timer = setTimeout(
        () => {
          this.slots.delete(key);
          const abort = (): void => {
            controller.abort(reason());
            // Give well-behaved probes a moment to report their own timeout message.
            setTimeout(() => {
              for (const d of waiters) d.expire();
              waiters.clear();
            }, this.graceMs);
          };
          // Late, the abort waits for the loop's next I/O poll: a check whose connect or
          // answer came in before its deadline, unread only because the loop was busy,
          // reports that and not a timeout.
          if (isLate(at, this.now())) setImmediate(abort);
          else abort();
        },
        Math.max(0, at - this.now()),
      );
      this.slots.set(key, (slot = { key, controller, timer, waiters }));
    }
    const d = new SlotDeadline(this, slot, onExpire);
    slot.waiters.add(d);
    return d;
  }

  /** @internal SlotDeadline.release() */
  leave(slot: DeadlineSlot, d: SlotDeadline): void {
    if (!slot.waiters.delete(d)) return;
    // After the abort the slot is out of the map (a new one may have its key).
    if (slot.waiters.size === 0 && this.slots.get(slot.key) === slot) {
      clearTimeout(slot.timer);
      this.slots.delete(slot.key);
      // A listener left behind by a probe would hear a later slot's abort: such a
      // signal is not reused.
      const signal = slot.controller.signal;
      if (this.spare.length < SPARE_CONTROLLERS && !signal.aborted && getEventListeners(signal, 'abort').length === 0) {
        this.spare.push(slot.controller);
      }
    }
  }

  private newController(): AbortController {
    const controller = new AbortController();
    // every check of the slot listens on this one signal
    setMaxListeners(0, controller.signal);
    return controller;
  }
}
