// The status page's recent history: each real's state changes over the last
// hour, kept in memory and bounded. Only what a strip on the page needs; the
// log and the metrics keep the long record.

/** A real's state as the director decides it. */
export type HistoryState = 'up' | 'down' | 'unknown';

export interface StateChange {
  /** The virtual's id (`tcp:192.0.2.1:80`) and the real's `ip:port`, as the status document names them. */
  readonly virtual: string;
  readonly real: string;
  readonly from: HistoryState;
  readonly to: HistoryState;
  /** ms since the epoch. */
  readonly at: number;
  /** The check's message that decided it. */
  readonly message?: string;
}

export interface Transition {
  readonly at: number;
  readonly from: HistoryState;
  readonly to: HistoryState;
  readonly message: string;
}

export interface RealHistory {
  /** Oldest first, all within the window. */
  readonly transitions: readonly Transition[];
  /** Older changes in the window were dropped to keep the bound. */
  readonly truncated: boolean;
}

export interface HistoryLimits {
  readonly windowMs: number;
  /** Changes kept per real: the most when few reals change, fewer when many do. */
  readonly perRealMax: number;
  readonly perRealMin: number;
  /** Changes kept in all, which sets the per-real share between min and max. */
  readonly total: number;
  /** Reals tracked at once (a reload churning addresses cannot grow it further). */
  readonly reals: number;
  /** A check's message is cut to this many characters. */
  readonly messageChars: number;
}

export const HISTORY_LIMITS: HistoryLimits = {
  windowMs: 3_600_000,
  perRealMax: 32,
  perRealMin: 4,
  total: 100_000,
  reals: 100_000,
  messageChars: 160,
};

interface Track {
  list: Transition[];
  truncated: boolean;
}

const SWEEP_EVERY_MS = 60_000;

export class StateHistory {
  /** In the order last changed: the first is the one to drop at the reals bound. */
  private readonly tracks = new Map<string, Track>();
  private lastSweep = 0;

  constructor(
    private readonly limits: HistoryLimits = HISTORY_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.tracks.size;
  }

  record(c: StateChange): void {
    if (c.from === c.to) return;
    const key = keyOf(c.virtual, c.real);
    const track = this.tracks.get(key) ?? { list: [], truncated: false };
    this.tracks.delete(key);
    this.tracks.set(key, track);
    const message =
      c.message === undefined
        ? ''
        : c.message.length > this.limits.messageChars
          ? `${c.message.slice(0, this.limits.messageChars - 1)}…`
          : c.message;
    track.list.push({ at: c.at, from: c.from, to: c.to, message });
    const share = Math.floor(this.limits.total / this.tracks.size);
    const keep = Math.max(this.limits.perRealMin, Math.min(this.limits.perRealMax, share));
    if (track.list.length > keep) {
      track.list.splice(0, track.list.length - keep);
      track.truncated = true;
    }
    if (this.tracks.size > this.limits.reals) this.tracks.delete(this.tracks.keys().next().value!);
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now);
  }

  /** The changes of one real within the window that ends now. */
  of(virtual: string, real: string, now = this.now()): RealHistory {
    const track = this.tracks.get(keyOf(virtual, real));
    if (!track) return { transitions: [], truncated: false };
    const since = now - this.limits.windowMs;
    const first = track.list.findIndex((t) => t.at >= since);
    if (first < 0) return { transitions: [], truncated: false };
    return { transitions: first === 0 ? track.list : track.list.slice(first), truncated: track.truncated && first === 0 };
  }

  /** Drops changes that left the window, and reals with none left. */
  private sweep(now: number): void {
    this.lastSweep = now;
    const since = now - this.limits.windowMs;
    for (const [key, track] of this.tracks) {
      const first = track.list.findIndex((t) => t.at >= since);
      if (first < 0) this.tracks.delete(key);
      else if (first > 0) {
        track.list.splice(0, first);
        track.truncated = false;
      }
    }
  }
}

function keyOf(virtual: string, real: string): string {
  return `${virtual} ${real}`;
}
