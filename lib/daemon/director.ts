// The Director decides the IPVS table: it takes a snapshot of the reals' states,
// computes the desired table from the config and that snapshot (a plain value), and
// hands it to the reconciler, which diffs, applies one batch and reads the table back.
// What follows (log lines, mail, monitorfile, metrics, slowstart ramps,
// fallbackcommand, the drift check's schedule) subscribes to the event stream it
// publishes each convergence on (spec §4.3-§4.7, §10).
import type { Config, DaemonStatus, RealServer, VirtualService } from '../config/model.js';
import type { CheckRunner, RealEntry } from './check-runner.js';
import { INITIAL_STATE, type RealCheckState } from './hysteresis.js';
import { checkKey, realAddress } from './real-id.js';
import { IpvsReconciler, type ConvergeResult } from '../ipvs/converge.js';
import type { ServicesRead } from '../ipvs/read-table.js';
import { ABSENT } from '../ipvs/service-digest.js';
import type { IpvsadmRunner } from '../ipvs/ipvsadm-runner.js';
import { desiredState, NOTHING_KNOWN, serviceOf, virtualKey, type DesiredState, type RealsSnapshot } from '../ipvs/desired.js';
import { purgeFailed } from '../ipvs/messages.js';
import {
  canonicalAddress,
  destinationKey,
  indexDestinations,
  indexServices,
  replaceServices,
  serviceKey,
  serviceLabel,
  storedDestinationPort,
  type IpvsService,
  type IpvsTable,
} from '../ipvs/table.js';
import { planReload } from './reload-scope.js';
import type { RampSchedule } from './ramp-schedule.js';
import { snapshotReals, stateOfEntry } from './real-snapshot.js';
import { serviceIndex } from './service-index.js';
import { statusLines, type RealView } from './status-lines.js';
import { convergenceErrorLine } from './convergence-error.js';
import type { DaemonEvents } from './transition-events.js';
import { ProcDriftGate } from './proc-drift-gate.js';

export interface DirectorDeps {
  readonly ipvsadm: IpvsadmRunner;
  readonly runner: CheckRunner;
  /** Read for the weights of the snapshot and the status views. */
  readonly ramps: RampSchedule;
  readonly events: DaemonEvents;
  readonly now?: () => number;
  /** Tells drift checks that /proc shows nothing changed; without it every one reads in full. */
  readonly drift?: ProcDriftGate;
}

export type { RealView };

export class StartError extends Error {}

/** The purge at stop did not leave the table as cleanstop wants it; the message names what remains. */
export class StopError extends Error {}

/** What a convergence looks at: every managed service, or those with these keys. */
type Scope = ReadonlySet<string> | 'all';

const covers = (have: Scope, want: Scope): boolean => have === 'all' || (want !== 'all' && [...want].every((k) => have.has(k)));

export class Director {
  private config: Config;
  private status: DaemonStatus = 'starting';
  private readonly runner: CheckRunner;
  private readonly reconciler: IpvsReconciler;
  /** Service keys a reload dropped: deleted by the next convergence. */
  private dropped: string[] = [];
  private converging: Promise<void> | null = null;
  private again = false;
  /** What the next convergence must look at: what changed since the last one took its scope. */
  private pending: Set<string> | 'all' = 'all';
  private lastIpvsError = '';
  /**
   * Per managed service, the digest of its listing lines (service-digest.ts) when a
   * convergence last found it as wanted. The drift check parses, and compares with the
   * desired state, only the services whose lines differ, and those `unsettled`: with
   * thousands of reals, a reload or a real going down concerns a few services, and a
   * whole-table comparison would be most of the daemon's CPU and its highest heap.
   */
  private readonly settledDigests = new Map<string, number>();
  /**
   * Services whose desired state a check result, a reload or a failed convergence changed
   * after the last convergence of them took their desired state.
   */
  private unsettled: Set<string> | 'all' = 'all';
  /** A drift check came while a convergence ran: it runs once that one has ended. */
  private driftDeferred = false;
  /** Whether the last convergence worked. */
  private lastConverge: { ok: boolean } | undefined;
  private stopping = false;
  private readonly now: () => number;
  /** The IPVS table as last read (start, every convergence). */
  private lastTable: { readonly table: IpvsTable; readonly at: number } | undefined;

  constructor(
    config: Config,
    private readonly deps: DirectorDeps,
  ) {
    this.config = config;
    this.now = deps.now ?? Date.now;
    this.runner = deps.runner;
    this.reconciler = new IpvsReconciler(deps.ipvsadm);
  }

  /**
   * A real that went up or down asks for a convergence of its virtuals (once the daemon
   * runs: the initial checks converge together); a ramp step or a drift check asks too.
   */
  subscribe(): void {
    const { events } = this.deps;
    events.on('checked', ({ entry, transition }) => {
      if (transition.kind !== 'up' && transition.kind !== 'down') return;
      const keys = new Set(entry.members.map((m) => virtualKey(m.virtual)));
      this.unsettle(keys);
      if (this.status !== 'starting') void this.requestConverge(keys);
    });
    events.on('converge-wanted', ({ why }) => {
      if (why === 'drift-check') void this.repairDrift();
      else void this.requestConverge();
    });
  }

  get daemonStatus(): DaemonStatus {
    return this.status;
  }

  get currentConfig(): Config {
    return this.config;
  }

  /** The IPVS table as last read, and when. */
  get table(): { readonly table: IpvsTable; readonly at: number } | undefined {
    return this.lastTable;
  }

  /** The last IPVS error logged, '' when the last convergence worked. */
  get ipvsError(): string {
    return this.lastIpvsError;
  }

  realView(v: VirtualService, r: RealServer): RealView {
    const entry = this.runner.get(checkKey(v, r));
    const state = stateOfEntry(entry);
    const ramp = entry && state === 'up' ? this.deps.ramps.rampOf(v, r, entry.id) : undefined;
    return {
      state,
      ...(entry ? { entry } : {}),
      wantWeight: state === 'up' ? (ramp?.weight ?? r.weight) : 0,
      ...(ramp ? { rampEndsAt: ramp.endsAt } : {}),
    };
  }

  /** Lines for the USR1 status dump. */
  statusLines(): string[] {
    return statusLines(this);
  }

  private setStatus(status: DaemonStatus): void {
    this.status = status;
    this.deps.events.emit({ type: 'phase', phase: status, config: this.config });
  }

  /**
   * Reads the table (a failure here fails the start: IPVS is not usable), puts
   * the managed virtuals in place without touching reals of unknown state,
   * then checks every real once and converges on the results.
   */
  async start(): Promise<void> {
    let table: IpvsTable;
    try {
      table = await this.reconciler.read();
    } catch (err) {
      throw new StartError(`cannot read the IPVS table with ${this.deps.ipvsadm.path}: ${(err as Error).message}`);
    }
    this.lastTable = { table, at: this.now() };
    this.runner.update(this.config, this.initialStates(table));
    this.pending = new Set();
    const first = await this.convergeNow('all', { table, scope: 'all' });
    if (first?.error) throw new StartError(`cannot change the IPVS table: ${first.error.message}`);
  }

  /**
   * Second half of start-up: the initial checks; then the daemon is "running".
   * `afterFirstChecks`: called once every real's first check has reported, before the
   * convergence that takes their results.
   */
  async run(o: { afterFirstChecks?: () => void } = {}): Promise<void> {
    await this.runner.checkAllNow();
    // A stop during the first checks has purged the table: nothing may come back.
    if (this.stopping) return;
    o.afterFirstChecks?.();
    await this.requestConverge();
    // Nor during the convergence on them: the checks must not be scheduled again.
    if (this.stopping) return;
    this.runner.start();
    this.setStatus('running');
  }

  async reload(edited: Config): Promise<void> {
    if (this.stopping) return;
    // Only the virtuals the edit concerns (and those dropped) are read and converged; the
    // rest stay as the last convergence left them, and the drift check still compares all.
    const plan = planReload(this.config, edited);
    const next = plan.config;
    this.setStatus('reloading');
    const old = new Set(serviceIndex(this.config).keys);
    const now = new Set(serviceIndex(next).keys);
    this.dropped = [...new Set([...this.dropped, ...[...old].filter((k) => !now.has(k))])];
    const scope: Scope = plan.scope === 'all' ? 'all' : new Set([...plan.scope, ...this.dropped]);
    this.unsettle(scope);
    this.config = next;
    // The table as last read serves as the starting point when the last convergence
    // worked: the batch's read-back verifies it, and a pass more corrects a change made
    // meanwhile by hand (one ipvsadm run, not two, per reload). Nothing changed for the
    // table (say, a comment edited): nothing to read or run at all.
    let table: IpvsTable | undefined =
      scope !== 'all' && scope.size === 0
        ? { services: [] }
        : scope !== 'all' && this.lastTable && this.lastIpvsError === '' && this.lastConverge?.ok
          ? this.lastTable.table
          : undefined;
    try {
      table ??= await this.reconciler.read(scope === 'all' ? undefined : scope);
    } catch {
      table = undefined;
    }
    // A stop that came while the table was read has purged it and must stay the last word.
    if (this.stopping) return;
    // New check entries belong to changed virtuals only, which the scoped read holds.
    this.runner.update(next, this.initialStates(table ?? { services: [] }));
    await this.requestConverge(scope, table);
    if (this.stopping) return;
    this.setStatus('running');
  }

  /**
   * cleanstop: purge each managed virtual. What the table read back shows purged is
   * logged and mailed (its up reals first, as the original logs them); a virtual still in
   * the table, or a table that could not be read, is a StopError naming them.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.setStatus('stopping');
    await this.runner.stop();
    if (this.converging) await this.converging;
    const purge = this.config.virtuals.filter((v) => v.cleanstop);
    if (purge.length === 0) return;
    // With the virtuals a reload dropped and no convergence has deleted yet.
    const keys = [...new Set([...purge.map(virtualKey), ...this.dropped])];
    const upReals = new Map<string, { virtual: VirtualService; rip: string }[]>();
    for (const v of purge) {
      const list = upReals.get(virtualKey(v)) ?? [];
      for (const r of v.reals) if (stateOfEntry(this.runner.get(checkKey(v, r))) === 'up') list.push({ virtual: v, rip: realAddress(r) });
      upReals.set(virtualKey(v), list);
    }
    // Only these services are managed here, and none of them is wanted any more.
    const result = await this.reconciler.converge({ services: [] }, keys);
    const label = (k: string): string => {
      const v = serviceIndex(this.config).byKey.get(k);
      return v ? serviceLabel(serviceOf(v)) : k;
    };
    this.deps.events.emit({ type: 'purged', config: this.config, result, upReals });
    const purged = new Set(result.applied.filter((c) => c.op === 'delete-service').map((c) => serviceKey(c.service)));
    if (result.error) {
      // Beyond what a read-back showed purged, nothing is known of the table.
      throw new StopError(purgeFailed(keys.filter((k) => !purged.has(k)).map(label), result.error.message, false));
    }
    const left = result.after ? indexServices(result.after) : new Map<string, IpvsService>();
    const remaining = keys.filter((k) => left.has(k));
    if (remaining.length > 0) {
      const why = result.failures[0]?.stderr || result.batchStderr.split('\n')[0] || 'ipvsadm refused the purge';
      throw new StopError(purgeFailed(remaining.map(label), why, true));
    }
  }

  /**
   * One convergence at a time; requests during one coalesce into one more, whose scope is
   * everything asked for meanwhile. `current`: the table (of at least `scope`) read just now.
   */
  requestConverge(scope: Scope = 'all', current?: IpvsTable, digests?: ReadonlyMap<string, number>): Promise<void> {
    // After stop() has begun, only its own purge may touch the table.
    if (this.stopping) return this.converging ?? Promise.resolve();
    if (scope === 'all' || this.pending === 'all') this.pending = 'all';
    else for (const k of scope) this.pending.add(k);
    if (this.converging) {
      this.again = true;
      return this.converging;
    }
    this.converging = (async () => {
      let known: KnownTable | undefined = current ? { table: current, scope, ...(digests ? { digests } : {}) } : undefined;
      do {
        this.again = false;
        const taken = this.pending;
        this.pending = new Set();
        const result = await this.convergeNow(taken, known);
        // Check results that came in meanwhile: the table this convergence has just read
        // back is where the next one starts (a whole listing less per round; drift by
        // others is still caught by the drift check and by each read-back).
        known =
          result?.after && !result.error
            ? { table: result.after, scope: result.scope, ...(result.digests ? { digests: result.digests } : {}) }
            : undefined;
      } while (this.again && !this.stopping);
    })().finally(() => {
      this.converging = null;
      if (this.driftDeferred && !this.stopping) {
        this.driftDeferred = false;
        void this.repairDrift();
      }
    });
    return this.converging;
  }

  /** A real already in the table with weight > 0 counts as up for failurecount (spec §4.9). */
  private initialStates(table: IpvsTable): (id: string, members: RealEntry['members']) => RealCheckState {
    // Indexed when a new entry first asks: a reload that adds no real asks nothing.
    let services: Map<string, IpvsService> | undefined;
    return (_id, members) => {
      services ??= indexServices(table);
      for (const { virtual, real } of members) {
        const have = services.get(virtualKey(virtual));
        if (!have) continue;
        const svc = serviceOf(virtual);
        const address = canonicalAddress(real.ip)?.address ?? real.ip;
        const d = indexDestinations(have).get(destinationKey({ address, port: storedDestinationPort(svc, real.forward, real.port) }));
        // Already serving: no successcount to sit out, no slowstart ramp.
        if (d && d.weight > 0) return { status: 'up', failCount: 0, successCount: 0 };
      }
      return INITIAL_STATE;
    };
  }

  /**
   * `known`: a table read just now, to start from when it holds the whole scope (else
   * converge reads it). Services a reload dropped are always in the scope: they go.
   */
  private async convergeNow(scope: Scope, known?: KnownTable): Promise<(ConvergeResult & { readonly scope: Scope }) | undefined> {
    let desired: DesiredState | undefined;
    let reals: RealsSnapshot = NOTHING_KNOWN;
    // One config for the whole convergence: a reload may swap this.config while the table
    // is being read, and the desired table must stay within the services managed here.
    const config = this.config;
    const dropped = this.dropped;
    const only = scope === 'all' ? undefined : new Set([...scope, ...dropped]);
    // What may be changed: the managed services (of the scope), and those a reload dropped.
    // A key of the scope that is neither (a late check result of a virtual gone and already
    // deleted) is left alone.
    const byKey = serviceIndex(config).byKey;
    const managed = only
      ? [...only].filter((k) => byKey.has(k) || dropped.includes(k))
      : [...new Set([...serviceIndex(config).keys, ...dropped])];
    const current = known && covers(known.scope, only ?? 'all') ? known.table : undefined;
    const result = await this.reconciler.converge(
      (table) => {
        // The states as they are once the table is read: the latest check results count.
        reals = snapshotReals(config, { entries: this.runner, ramps: this.deps.ramps }, this.now(), only);
        this.settling(only, config);
        desired = desiredState(config, table, reals, { previouslyManaged: dropped, scope: only });
        return desired.table;
      },
      managed,
      { ...(current ? { current } : {}), ...(only ? { scope: only } : {}) },
    );
    if (result.after) {
      // A scoped read is fresh for its services; the others are as last read.
      const table = only && this.lastTable ? replaceServices(this.lastTable.table, result.after, only) : result.after;
      this.lastTable = { table, at: this.now() };
    }
    const ok = result.ok && !result.error;
    this.lastConverge = { ok };
    // What was read last is what is wanted: its services' lines are settled. Without the
    // digests of that read, or after a failure (the table may be as it was while the desired
    // state is not, which no digest tells), the drift check compares them again.
    const digests = result.digests ?? (current && result.after === current ? known?.digests : undefined);
    for (const k of managed) {
      if (ok && digests) this.settledDigests.set(k, digests.get(k) ?? ABSENT);
      else this.settledDigests.delete(k);
    }
    if (!ok) this.unsettle(only ?? 'all');
    this.lastIpvsError = convergenceErrorLine(result);
    if (!result.error && result.ok) {
      // Only what this convergence deleted: a reload meanwhile may have dropped more.
      this.dropped = this.dropped.filter((k) => !dropped.includes(k));
    }
    this.deps.events.emit({ type: 'converged', config: this.config, result, desired, reals, scope: only });
    return { ...result, scope: only ?? 'all' };
  }

  /** A convergence takes the desired state of these services (undefined: all) now. */
  private settling(only: ReadonlySet<string> | undefined, config: Config): void {
    if (only === undefined) this.unsettled = new Set();
    else if (this.unsettled !== 'all') for (const k of only) this.unsettled.delete(k);
    else this.unsettled = new Set([...serviceIndex(config).keys, ...this.dropped].filter((k) => !only.has(k)));
  }

  /**
   * Converges the services that need it, unless /proc shows the managed services as last
   * found right (proc-drift-gate.ts): those whose listing lines are not, by digest, those
   * last found right, and those unsettled.
   */
  private async repairDrift(): Promise<void> {
    // Not a convergence of everything queued behind the one under way: that would read
    // and compare the whole table. The drift check runs once that convergence has ended.
    if (this.converging) {
      this.driftDeferred = true;
      return;
    }
    const gate = this.deps.drift ?? NO_GATE;
    const managed = new Set([...serviceIndex(this.config).keys, ...this.dropped]);
    const look = await gate.look(managed);
    if ((look.unchanged && this.nothingUnsettled()) || this.stopping) return;
    if (this.converging) {
      this.driftDeferred = true;
      return;
    }
    let read: ServicesRead;
    try {
      gate.fullRead();
      const unsettled = this.unsettled === 'all' ? 'all' : new Set(this.unsettled);
      read = await this.reconciler.readChanged({ managed, known: this.settledDigests, look: unsettled });
    } catch {
      gate.forget();
      return this.requestConverge(); // reports the error as every convergence does
    }
    for (const k of this.settledDigests.keys()) if (!managed.has(k)) this.settledDigests.delete(k);
    // A convergence that began meanwhile may have changed what was read: only the services
    // found to differ are handed on, to be read again.
    if (this.converging) return this.requestConverge(read.scope);
    if (read.scope.size > 0) await this.requestConverge(read.scope, read.table, read.digests);
    const allSettled = [...managed].every((k) => this.settledDigests.has(k));
    if (allSettled && this.nothingUnsettled()) await gate.settle(look, managed);
    else gate.forget();
  }

  private nothingUnsettled(): boolean {
    return this.unsettled !== 'all' && this.unsettled.size === 0;
  }

  /** Their desired state changed: the next drift check compares them, whatever their digest. */
  private unsettle(keys: Iterable<string> | 'all'): void {
    if (this.unsettled === 'all') return;
    if (keys === 'all') this.unsettled = 'all';
    else for (const k of keys) this.unsettled.add(k);
  }
}

/** A table read just now, of `scope`, with the digests of that read when known. */
interface KnownTable {
  readonly table: IpvsTable;
  readonly scope: Scope;
  readonly digests?: ReadonlyMap<string, number>;
}

const NO_GATE = new ProcDriftGate({ file: undefined });
