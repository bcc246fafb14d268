// Runs the checks: one schedule per real id (shared by identical reals across
// virtuals, spec §3.1), each probe bounded by one deadline, results folded
// through the hysteresis into transitions. Knows nothing of IPVS: transitions
// go to a listener. State survives update() for ids that stay (reload, §10).
//
// The deadline has one source: the checker of the virtual (and mode) names the
// config value its probe may take (checktimeout or negotiatetimeout, spec §3.3),
// and the runner turns it into the one AbortSignal the probe gets.
import type { Config, RealServer, VirtualService } from '../config/model.js';
import { selectChecker } from '../../checks/registry.js';
import { buildTarget } from '../../checks/target.js';
import type { CheckResult, CheckTarget, Checker, ProbeSink } from '../../checks/types.js';
import { applyResult, forceStatus, INITIAL_STATE, type RealCheckState, type RealStatus, type Transition } from './hysteresis.js';
import { checkKey, perPair } from './real-id.js';
import { DeadlineSlots, SlotTimers, type Deadline, type Expiring } from './slot-timers.js';

export type CheckMode = 'negotiate' | 'connect';

/** The checker that probes a virtual's reals in a mode; the registry unless a test scripts one. */
export type CheckerLookup = (virtual: VirtualService, mode: CheckMode) => Checker | undefined;

const registryChecker: CheckerLookup = (v, mode) => selectChecker(v, v.checktype.kind === 'combined' ? mode : undefined);

/**
 * Targets depend only on the virtual and real: built once, not on every probe. They are
 * also an entry's members: a target holds its pair, and an object of its own per pair would
 * cost every real of a large config again, for the daemon's life.
 */
const targetOf: (v: VirtualService, r: RealServer) => CheckTarget = perPair(buildTarget);

/** An entry's fields that follow its members (a reload may change them). */
function memberFields(members: readonly CheckTarget[]): Pick<RealEntry, 'members' | 'target'> {
  return { members, target: members[0]! };
}

export interface RealEntry {
  /** checkKey() of the members: what they share. */
  readonly id: string;
  /** Every (virtual, real) pair that shares this id, in config order, as its check target. */
  readonly members: readonly CheckTarget[];
  /** What the first member's probe checks: kept here, not looked up on every check. */
  readonly target: CheckTarget;
  state: RealCheckState;
  /** A check (or maintenance, or checktype=on) has decided this real in this process. */
  checked: boolean;
  /** Down because a maintenance file names it (the last decision). */
  maintenance: boolean;
  /**
   * The last result's fields, copied into the entry (undefined message: no result yet).
   * Not the result object: kept for a whole interval, every check's result (and its
   * detail string) would outlive the young generation and fill the old one.
   */
  lastOk: boolean;
  lastMessage: string | undefined;
  lastDurationMs: number;
  /** When the last result came (0 before the first). */
  lastResultAt: number;
  lastChange: number;
  /** combined checktype: connects done since the last negotiate. */
  connectsSinceNegotiate: number;
  nextDue: number;
  running: boolean;
  /**
   * Out of the runner (a reload dropped its id): its check in flight, if any, is the last.
   * A field, not a lookup of the id: the runner asks at every start and end of a check.
   */
  retired: boolean;
  /** The schedule slot while a next check is armed (see slot-timers.ts). */
  slot?: number;
}

export interface CheckRunnerDeps {
  readonly checkers?: CheckerLookup;
  /**
   * A maintenance file forces the real down (spec §3.1); resolved per check. A plain
   * boolean when known at once (no maintenancedir): no promise per check for it.
   */
  readonly inMaintenance?: (r: RealServer) => boolean | Promise<boolean>;
  /** `from`: the entry's status before this result. */
  readonly onTransition: (entry: RealEntry, transition: Transition, result: CheckResult | undefined, from: RealStatus) => void;
  readonly now?: () => number;
  /** 0..1; the first check of each real is spread over this share of a second. */
  readonly random?: () => number;
}

export const MAINTENANCE_RESULT: CheckResult = { ok: false, message: 'Server in maintenance', durationMs: 0 };
/** How long a probe may take to report its own timeout message after its signal aborted. */
const DEADLINE_GRACE_MS = 50;
/** Checks in flight at once during checkAllNow() (start-up). */
const START_IN_FLIGHT = 1000;
const timedOut = (): Error => new Error('check timed out');

export class CheckRunner {
  private entries = new Map<string, RealEntry>();
  /** The virtuals of the config last taken. */
  private virtuals = new Set<VirtualService>();
  private stopped = true;
  /** @internal RunningCheck */
  readonly now: () => number;
  private readonly random: () => number;
  private readonly checkers: CheckerLookup;
  /** Checks started and not yet reported; stop() waits for them through `drained`. */
  private inFlight = 0;
  private drained: (() => void)[] = [];
  /** Next checks, grouped into 20 ms slots: a few hundred Node timers, however many reals. */
  private readonly schedule: SlotTimers<RealEntry>;
  /** Check deadlines, grouped likewise: one AbortController per slot, not per check. */
  private readonly deadlines: DeadlineSlots;

  constructor(private readonly deps: CheckRunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.checkers = deps.checkers ?? registryChecker;
    this.schedule = new SlotTimers(
      (e) => {
        e.slot = undefined;
        if (!e.retired && !this.stopped) this.launch(e);
      },
      () => this.now(),
    );
    this.deadlines = new DeadlineSlots(() => this.now(), DEADLINE_GRACE_MS);
  }

  /**
   * Takes a (new) config. Ids that stay keep their state, fail counts and
   * schedule; new ids start `initial(id)` (unknown unless the daemon knows better).
   * A reload keeps the objects of the virtuals it did not change (reload-scope.ts): only
   * the reals of the virtuals that went or came are looked at then.
   */
  update(config: Config, initial: (id: string, members: RealEntry['members']) => RealCheckState = () => INITIAL_STATE): void {
    const nextSet = new Set(config.virtuals);
    const gone = [...this.virtuals].filter((v) => !nextSet.has(v));
    const came = config.virtuals.filter((v) => !this.virtuals.has(v));
    this.virtuals = nextSet;
    const pairs = (vs: readonly VirtualService[]): number => vs.reduce((n, v) => n + v.reals.length, 0);
    // Each member of an entry touched below is sorted into config order: cheaper than a
    // rebuild only while few virtuals changed.
    if (this.entries.size === 0 || pairs(gone) + pairs(came) > this.entries.size / 4) {
      this.rebuild(config, initial);
      return;
    }
    const touched = new Map<string, CheckTarget[]>();
    const membersOf = (id: string): CheckTarget[] => {
      let m = touched.get(id);
      if (!m) touched.set(id, (m = [...(this.entries.get(id)?.members ?? [])]));
      return m;
    };
    for (const virtual of gone) {
      for (const real of virtual.reals) {
        const m = membersOf(checkKey(virtual, real));
        for (let i = m.length - 1; i >= 0; i--) if (m[i]!.virtual === virtual) m.splice(i, 1);
      }
    }
    for (const virtual of came) {
      for (const real of virtual.reals) {
        const m = membersOf(checkKey(virtual, real));
        if (!m.some((x) => x.virtual === virtual && x.real === real)) m.push(targetOf(virtual, real));
      }
    }
    const order = new Map<VirtualService, number>();
    config.virtuals.forEach((v, i) => {
      if (!order.has(v)) order.set(v, i);
    });
    const rank = (x: { virtual: VirtualService; real: RealServer }): number =>
      order.get(x.virtual)! * 1e6 + x.virtual.reals.indexOf(x.real);
    const now = this.now();
    for (const [id, members] of touched) {
      const old = this.entries.get(id);
      if (members.length === 0) {
        if (old) this.retire(old);
        this.entries.delete(id);
        continue;
      }
      members.sort((a, b) => rank(a) - rank(b));
      const e = old ?? this.newEntry(id, members, initial, now);
      // Same object: a check in flight reports into the kept state.
      Object.assign(e, memberFields(members));
      this.entries.set(id, e);
      if (!this.stopped && e.slot === undefined && !e.running) this.arm(e);
    }
  }

  private rebuild(config: Config, initial: (id: string, members: RealEntry['members']) => RealCheckState): void {
    const groups = new Map<string, CheckTarget[]>();
    for (const virtual of config.virtuals) {
      for (const real of virtual.reals) {
        const id = checkKey(virtual, real);
        // A first member makes an array of one: pushed onto [], V8 reserves room for 17,
        // and nearly every real is the only member of its entry.
        const g = groups.get(id);
        if (g) g.push(targetOf(virtual, real));
        else groups.set(id, [targetOf(virtual, real)]);
      }
    }
    const next = new Map<string, RealEntry>();
    const now = this.now();
    for (const [id, members] of groups) {
      const old = this.entries.get(id);
      if (old) {
        // Same object: a check in flight reports into the kept state.
        Object.assign(old, memberFields(members));
        next.set(id, old);
        continue;
      }
      next.set(id, this.newEntry(id, members, initial, now));
    }
    for (const [id, e] of this.entries) {
      if (!next.has(id)) this.retire(e);
    }
    this.entries = next;
    if (!this.stopped) for (const e of next.values()) if (e.slot === undefined && !e.running) this.arm(e);
  }

  private newEntry(
    id: string,
    members: readonly CheckTarget[],
    initial: (id: string, members: RealEntry['members']) => RealCheckState,
    now: number,
  ): RealEntry {
    const interval = members[0]!.virtual.checkinterval * 1000;
    const m = memberFields(members);
    return {
      id,
      members: m.members,
      target: m.target,
      state: initial(id, members),
      checked: false,
      maintenance: false,
      // Every field is in the literal, those set later included: an object that gains a
      // field after it was made keeps that field in a separate array.
      lastOk: false,
      lastMessage: undefined,
      lastDurationMs: 0,
      lastResultAt: 0,
      lastChange: now,
      // A combined check starts with a negotiate, whatever the initial state.
      connectsSinceNegotiate: Number.POSITIVE_INFINITY,
      // Spread first checks so a big farm does not probe everything at once,
      // while still getting a first result quickly.
      nextDue: now + Math.floor(this.random() * Math.min(interval, 1000)),
      running: false,
      retired: false,
      slot: undefined,
    };
  }

  get(id: string): RealEntry | undefined {
    return this.entries.get(id);
  }

  all(): Iterable<RealEntry> {
    return this.entries.values();
  }

  start(): void {
    this.stopped = false;
    for (const e of this.entries.values()) if (e.slot === undefined && !e.running) this.arm(e);
  }

  /** Stops scheduling and waits for the checks in flight (each is bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.schedule.clear();
    for (const e of this.entries.values()) e.slot = undefined;
    await this.allReported();
  }

  private allReported(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /**
   * Runs every check now (start-up and tests); resolves when all have reported. At most
   * START_IN_FLIGHT at a time: every socket opened at once raises the daemon's peak memory
   * for no gain (a connect takes a millisecond; a hung one holds one slot).
   */
  async checkAllNow(): Promise<void> {
    const queue = [...this.entries.values()].filter((e) => !e.running);
    for (const e of queue) this.disarm(e);
    let next = 0;
    const pump = async (): Promise<void> => {
      while (next < queue.length) {
        const e = queue[next++]!;
        if (e.running || e.retired) continue;
        e.nextDue = this.now();
        await new Promise<void>((resolve) => this.launch(e, resolve));
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_IN_FLIGHT, queue.length) }, pump));
    await this.allReported();
    if (this.stopped) {
      // Start-up: every real was just checked at the same moment. Left at a fixed cadence
      // from there, all of them would be probed in the same instant of every interval
      // (every socket at once, then nothing); spread the next checks over one interval
      // instead, which keeps every real within its checkinterval.
      const now = this.now();
      for (const e of this.entries.values()) {
        const interval = e.members[0]!.virtual.checkinterval * 1000;
        e.nextDue = now + Math.floor(this.random() * interval);
      }
    }
  }

  private arm(e: RealEntry): void {
    e.slot = this.schedule.add(e, e.nextDue);
  }

  private retire(e: RealEntry): void {
    this.disarm(e);
    e.retired = true;
  }

  private disarm(e: RealEntry): void {
    if (e.slot !== undefined) this.schedule.remove(e, e.slot);
    e.slot = undefined;
  }

  /**
   * Starts a check of `e`; `done` runs when it has reported. No promise of its own: this
   * runs for every real every interval, and each promise layer adds a promise, its
   * closures and a microtask to every check.
   */
  private launch(e: RealEntry, done?: () => void): void {
    e.running = true;
    this.inFlight++;
    const check = new RunningCheck(this, e, this.now(), done);
    try {
      this.checkOnce(e, check);
    } catch {
      // A maintenance lookup or checker lookup that throws loses this check, not the next.
      check.end(undefined);
    }
  }

  /** @internal RunningCheck: the check of `e` that started at `started` has reported. */
  finished(e: RealEntry, started: number): void {
    e.running = false;
    const interval = e.members[0]!.virtual.checkinterval * 1000;
    // Fixed cadence from the start of the check; a check slower than the
    // interval is followed at once by the next one, never overlapped.
    e.nextDue = Math.max(started + interval, this.now());
    if (--this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
    if (!this.stopped && !e.retired && e.slot === undefined) this.arm(e);
  }

  private checkOnce(e: RealEntry, check: RunningCheck): void {
    const { virtual, real } = e.members[0]!;
    const kind = virtual.checktype.kind;
    if (kind === 'off') {
      // Never checked, never brought up: down once, as the original's start-up leaves
      // such reals (out of the table, the fallback in), and then left alone.
      check.end(() => {
        if (!e.checked) this.apply(e, forceStatus(e.state, 'down'), undefined);
      });
      return;
    }
    const maintenance = this.deps.inMaintenance?.(real);
    if (maintenance === undefined || maintenance === false) this.checkNotInMaintenance(e, check);
    else if (maintenance === true) this.maintained(e, check);
    else {
      // A maintenance lookup that fails skips this check, as one that throws does.
      maintenance.then(
        (inMaintenance) => {
          try {
            if (inMaintenance) this.maintained(e, check);
            else this.checkNotInMaintenance(e, check);
          } catch {
            check.end(undefined);
          }
        },
        () => check.end(undefined),
      );
    }
  }

  private maintained(e: RealEntry, check: RunningCheck): void {
    check.end(() => this.apply(e, forceStatus(e.state, 'down'), MAINTENANCE_RESULT));
  }

  private checkNotInMaintenance(e: RealEntry, check: RunningCheck): void {
    const { virtual } = e.members[0]!;
    if (virtual.checktype.kind === 'on') {
      check.end(() => this.apply(e, forceStatus(e.state, 'up'), undefined));
      return;
    }
    let mode: CheckMode = virtual.checktype.kind === 'connect' ? 'connect' : 'negotiate';
    if (virtual.checktype.kind === 'combined') {
      // negotiate, N x connect, negotiate, ... (spec §3.2); a failed or first check negotiates.
      const n = virtual.checktype.n;
      mode = e.state.status === 'up' && e.connectsSinceNegotiate < n ? 'connect' : 'negotiate';
    }
    check.virtual = virtual;
    check.mode = mode;
    const checker = this.checkers(virtual, mode);
    if (!checker) {
      check.settle({ ok: false, message: `no checker for ${virtual.service}`, durationMs: 0 });
      return;
    }
    this.probeWithDeadline(check, checker, virtual, e.target);
  }

  /**
   * The probe gets a signal that aborts at the deadline its checker names (shared with
   * the checks whose deadline falls in the same 20 ms); should a probe ignore it, the
   * deadline's expiry still ends the check on time (the probe's late answer is dropped).
   */
  private probeWithDeadline(check: RunningCheck, checker: Checker, virtual: VirtualService, target: CheckTarget): void {
    const t0 = this.now();
    check.t0 = t0;
    check.deadline = this.deadlines.join(t0 + checker.timeoutSeconds(virtual) * 1000, timedOut, check);
    let probe: Promise<CheckResult>;
    try {
      if (checker.start !== undefined) {
        checker.start(target, check.deadline.signal, check);
        return;
      }
      probe = checker.probe(target, check.deadline.signal);
    } catch (err) {
      check.failed(err);
      return;
    }
    probe.then(
      (result) => check.settle(result),
      (err: unknown) => check.failed(err),
    );
  }

  /** @internal RunningCheck: the probe of `e` (as `virtual` had it) in `mode` came back with `result`. */
  report(e: RealEntry, virtual: VirtualService, mode: CheckMode, result: CheckResult): void {
    if (virtual.checktype.kind === 'combined') {
      // A failure forces the next check to negotiate, whatever the fail count.
      if (!result.ok) e.connectsSinceNegotiate = virtual.checktype.n;
      else e.connectsSinceNegotiate = mode === 'connect' ? e.connectsSinceNegotiate + 1 : 0;
    }
    this.apply(e, applyResult(e.state, result.ok, virtual.failurecount, virtual.successcount), result);
  }

  private apply(e: RealEntry, next: { state: RealCheckState; transition: Transition }, result: CheckResult | undefined): void {
    const from = e.state.status;
    if (result) {
      e.lastOk = result.ok;
      e.lastMessage = result.message;
      e.lastDurationMs = result.durationMs;
      e.lastResultAt = this.now();
    }
    e.state = next.state;
    e.checked = true;
    e.maintenance = result === MAINTENANCE_RESULT;
    if (next.transition.kind === 'up' || next.transition.kind === 'down') e.lastChange = this.now();
    this.deps.onTransition(e, next.transition, result, from);
  }
}

/**
 * One check in flight. It ends once: with a probe's answer or its deadline's expiry
 * (settle), or with a decision made without a probe (end); the runner then takes the
 * real back, whatever the last step did. It is also what the probe reports to (a
 * checker's start()) and what its deadline ends: no closures per check for either.
 */
class RunningCheck implements ProbeSink, Expiring {
  /** Set once a probe is chosen: what its answer is applied with. */
  virtual: VirtualService | undefined;
  mode: CheckMode = 'negotiate';
  deadline: Deadline | undefined;
  t0 = 0;
  private ended = false;

  constructor(
    private readonly runner: CheckRunner,
    private readonly e: RealEntry,
    private readonly started: number,
    private readonly done: (() => void) | undefined,
  ) {}

  /** Ends the check with a decision made without a probe (`last`, if any). */
  end(last: (() => void) | undefined): void {
    this.conclude(last, undefined);
  }

  /** Ends the check with the probe's answer, or the deadline's. */
  settle(result: CheckResult): void {
    this.conclude(undefined, result);
  }

  /** The deadline's grace is over and the probe has not answered. */
  expired(): void {
    this.settle({ ok: false, message: 'Timeout', durationMs: this.runner.now() - this.t0 });
  }

  /**
   * Once only: a late answer after the deadline's expiry is dropped. A listener that throws
   * loses this one result, never the real's next check. The result is passed, not a
   * closure over it: this runs for every check.
   */
  private conclude(last: (() => void) | undefined, result: CheckResult | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.deadline?.release();
    try {
      if (last) last();
      else if (result && this.virtual) this.runner.report(this.e, this.virtual, this.mode, result);
    } catch {
      // the result is dropped; the schedule goes on
    } finally {
      this.runner.finished(this.e, this.started);
      this.done?.();
    }
  }

  failed(err: unknown): void {
    this.settle({ ok: false, message: err instanceof Error ? err.message : String(err), durationMs: this.runner.now() - this.t0 });
  }
}
