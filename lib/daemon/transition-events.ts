// The daemon's event stream. The check runner and the Director publish what
// happened (a check result, a convergence the table read-back confirmed, a purge,
// a change of daemon state); everything that follows from it (log lines, mail,
// monitorfile, metrics, slowstart ramps, fallbackcommand, drift repair) subscribes
// here and never calls into the Director. A part that wants the table looked at
// again (a ramp step, a drift check) publishes `converge-wanted`.
import type { CheckResult } from '../../checks/types.js';
import type { Config, DaemonStatus, RealServer, VirtualService } from '../config/model.js';
import type { DesiredState, RealsSnapshot } from '../ipvs/desired.js';
import type { ConvergeResult } from '../ipvs/converge.js';
import type { RealEntry } from './check-runner.js';
import type { RealStatus, Transition } from './hysteresis.js';
import { realId } from './real-id.js';

/** One check (or maintenance, or checktype=on/off) folded into a real's state. */
export interface CheckedEvent {
  readonly type: 'checked';
  readonly entry: RealEntry;
  readonly transition: Transition;
  /** Undefined for checktype=on/off, which probe nothing. */
  readonly result: CheckResult | undefined;
  /** The entry's status before this result. */
  readonly from: RealStatus;
  /** The daemon's state when the result came in (a ramp starts only once it runs). */
  readonly phase: DaemonStatus;
  readonly at: number;
}

/** A convergence is over: what it sent, what the read-back shows, and what it wanted. */
export interface ConvergedEvent {
  readonly type: 'converged';
  readonly config: Config;
  readonly result: ConvergeResult;
  /** Undefined when the table could not be read (no desired table was computed). */
  readonly desired: DesiredState | undefined;
  /** The reals' states the desired table was computed from. */
  readonly reals: RealsSnapshot;
  /** Service keys looked at; undefined: every managed service. */
  readonly scope: ReadonlySet<string> | undefined;
}

/** The clean stop's purge is over (whether or not it worked). */
export interface PurgedEvent {
  readonly type: 'purged';
  readonly config: Config;
  readonly result: ConvergeResult;
  /** Per service key: the reals that were up when the purge began. */
  readonly upReals: ReadonlyMap<string, readonly { readonly virtual: VirtualService; readonly rip: string }[]>;
}

export interface PhaseEvent {
  readonly type: 'phase';
  readonly phase: DaemonStatus;
  readonly config: Config;
}

export interface ConvergeWantedEvent {
  readonly type: 'converge-wanted';
  readonly why: 'ramp-step' | 'drift-check';
}

export type DaemonEvent = CheckedEvent | ConvergedEvent | PurgedEvent | PhaseEvent | ConvergeWantedEvent;

type Handler<T extends DaemonEvent['type']> = (event: Extract<DaemonEvent, { type: T }>) => void;

/**
 * Subscribers of each event type run in the order they subscribed, synchronously: the
 * composition decides the order (log lines before the convergence a transition asks for).
 */
export class DaemonEvents {
  private readonly handlers = new Map<DaemonEvent['type'], ((e: DaemonEvent) => void)[]>();

  on<T extends DaemonEvent['type']>(type: T, handler: Handler<T>): () => void {
    const list = this.handlers.get(type) ?? [];
    const h = handler as (e: DaemonEvent) => void;
    list.push(h);
    this.handlers.set(type, list);
    return () => {
      const i = list.indexOf(h);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit(event: DaemonEvent): void {
    for (const h of this.handlers.get(event.type) ?? []) h(event);
  }
}

/** A real of a virtual changed state by its checks: the feed of state histories. */
export interface RealTransition {
  /** The original's real id (what monitorfile lines show). */
  readonly realId: string;
  /** The virtual's id (`tcp:10.0.0.1:80`). */
  readonly virtual: string;
  readonly real: RealServer;
  readonly from: RealStatus;
  readonly to: RealStatus;
  /** ms since the epoch. */
  readonly at: number;
  /** The check's message ("-" when it has none; "Server in maintenance"). */
  readonly message: string;
}

/**
 * Calls `listener` once per (virtual, real) whose check state changed (up, down, or the
 * first decision of an unknown real). Returns the unsubscribe function.
 */
export function onRealTransition(events: DaemonEvents, listener: (t: RealTransition) => void): () => void {
  return events.on('checked', (e) => {
    const to = e.entry.state.status;
    if (to === e.from) return;
    for (const { virtual, real } of e.entry.members) {
      listener({ realId: realId(virtual, real), virtual: virtual.id, real, from: e.from, to, at: e.at, message: e.result?.message ?? '-' });
    }
  });
}
