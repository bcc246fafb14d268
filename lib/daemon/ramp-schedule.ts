// slowstart ramps: when each real that came back up started its ramp, the weight it
// has now, and one timer for the next step of any ramp. Fed by the event stream: a
// real that comes up once the daemon runs starts a ramp (the initial checks at
// start-up do not: the whole service starts at full weight), one that goes down ends
// it; after each convergence the finished ramps are forgotten and the timer armed. A
// step that is due asks for a convergence on the stream.
import type { RealServer, VirtualService } from '../config/model.js';
import { destinationKey, indexDestinations, serviceKey, type IpvsService } from '../ipvs/table.js';
import type { IpvsCommand } from '../ipvs/commands.js';
import type { DesiredState } from '../ipvs/desired.js';
import type { RealEntry } from './check-runner.js';
import { checkKey } from './real-id.js';
import { slowStartWeight } from './slow-start.js';
import type { DaemonEvents } from './transition-events.js';

export interface RampEntries {
  get(id: string): RealEntry | undefined;
}

/** A little after the step boundary, so that the step has surely begun. */
const STEP_MARGIN_MS = 20;

export class RampSchedule {
  /** Entry id -> when it came up, for reals whose ramp may still run. */
  private readonly started = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly events: DaemonEvents,
    private readonly entries: RampEntries,
    private readonly now: () => number = Date.now,
  ) {}

  /** Subscribes to the stream; the convergence step comes after the notifications. */
  subscribeTransitions(): void {
    this.events.on('checked', ({ entry, transition, phase }) => {
      if (transition.kind === 'up' && phase !== 'starting' && entry.members.some((m) => m.virtual.slowstart > 0)) {
        this.started.set(entry.id, this.now());
      }
      if (transition.kind === 'down') this.started.delete(entry.id);
    });
    this.events.on('phase', ({ phase }) => {
      if (phase !== 'stopping') return;
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    });
  }

  subscribeConvergences(): void {
    this.events.on('converged', () => this.armNextStep());
  }

  /** The configured weight, or the step while a ramp runs. */
  weightOf(v: VirtualService, r: RealServer, entryId: string, now: number): number {
    if (v.slowstart === 0) return r.weight;
    const since = this.started.get(entryId);
    if (since === undefined) return r.weight;
    return slowStartWeight(r.weight, v.slowstart, now - since).weight;
  }

  /** The step and when the ramp ends, while a ramp of this real runs. */
  rampOf(v: VirtualService, r: RealServer, entryId: string): { readonly weight: number; readonly endsAt: number } | undefined {
    const since = this.started.get(entryId);
    if (since === undefined || v.slowstart === 0) return undefined;
    const p = slowStartWeight(r.weight, v.slowstart, this.now() - since);
    return p.nextChangeInMs === undefined ? undefined : { weight: p.weight, endsAt: since + v.slowstart * 1000 };
  }

  /**
   * A slowstart step after the first (weight raised from one value above 0 to another
   * while a ramp runs): logged like any change, but mailed only once, when the real
   * comes back. `before`: the services as they were before the convergence.
   */
  isRampStep(
    c: IpvsCommand,
    before: () => Map<string, IpvsService>,
    desired: DesiredState,
    virtualOf: (key: string) => VirtualService | undefined,
  ): boolean {
    if (c.op !== 'edit-destination' || c.destination.weight === 0 || this.started.size === 0) return false;
    const key = serviceKey(c.service);
    const was = before().get(key);
    const d = was ? indexDestinations(was).get(destinationKey(c.destination)) : undefined;
    if (!d || d.weight === 0) return false;
    const real = desired.servers.get(c.service, c.destination)?.real;
    const virtual = virtualOf(key);
    const e = real && virtual ? this.entries.get(checkKey(virtual, real)) : undefined;
    // Still known at the last step: finished ramps are forgotten after the notifications.
    return e !== undefined && this.started.has(e.id);
  }

  /** One timer for the next step of any real; finished ramps are forgotten. */
  private armNextStep(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.started.size === 0 || this.stopped) return;
    let next = Number.POSITIVE_INFINITY;
    const now = this.now();
    // Only the ramps under way, not every real: this runs after every convergence.
    for (const [id, since] of this.started) {
      const e = this.entries.get(id);
      let ramping = false;
      for (const { virtual: v, real: r } of e?.state.status === 'up' ? e.members : []) {
        if (v.slowstart === 0) continue;
        const p = slowStartWeight(r.weight, v.slowstart, now - since);
        if (p.nextChangeInMs === undefined) continue;
        ramping = true;
        next = Math.min(next, p.nextChangeInMs);
      }
      if (!ramping) this.started.delete(id);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.events.emit({ type: 'converge-wanted', why: 'ramp-step' });
    }, next + STEP_MARGIN_MS);
  }
}
