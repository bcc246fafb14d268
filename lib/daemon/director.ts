// The director: ties the config, the check runner and the IPVS reconciler
// together. Check results change real states; every change (and a timer, to
// repair drift) asks for one convergence of the table; what the convergence
// really applied is what gets logged and mailed (spec §4.3-§4.7, §10).
import type { Config, DaemonStatus, RealServer, VirtualService } from '../config/model.js';
import type { CheckResult } from '../../checks/types.js';
import { CheckRunner, MAINTENANCE_RESULT, type ProbeFn, type RealEntry } from './check-runner.js';
import { INITIAL_STATE, type RealCheckState, type Transition } from './hysteresis.js';
import { checkKey, realAddress, realId } from './real-id.js';
import { IpvsReconciler, type ConvergeResult } from '../ipvs/converge.js';
import { formatCommandLine, type IpvsadmRunner } from '../ipvs/ipvsadm-runner.js';
import { desiredState, serviceOf, virtualKey, type DesiredState, type RealState } from '../ipvs/desired.js';
import { logLineFor, tableShows } from '../ipvs/log-lines.js';
import {
  changeNotMade, changesUnconfirmed, commandFailed, purgeFailed, purgedRealServer, resettingSoftFailure, softFailure, softSuccess,
} from '../ipvs/messages.js';
import { slowStartWeight } from './slow-start.js';
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
import type { IpvsCommand } from '../ipvs/commands.js';
import { parseListings } from '../ipvs/listing-parser.js';
import { commandTarget } from '../ipvs/commands.js';
import { runFallbackCommand } from './fallback-command.js';
import { planReload } from './reload-scope.js';

export interface DirectorLog {
  log(message: string): void;
  debug(level: number, message: string): void;
}

export interface DirectorAlerts {
  alert(ev: { subject: string; virtual: VirtualService; real: string; remind: boolean }): void;
  sendReminders(): number;
}

export interface DirectorMonitor {
  write(path: string, realId: string, state: 'up' | 'down', message?: string): void;
}

export interface DirectorDeps {
  readonly log: DirectorLog;
  readonly ipvsadm: IpvsadmRunner;
  readonly alerts: DirectorAlerts;
  readonly monitor: DirectorMonitor;
  readonly probe: ProbeFn;
  readonly timeoutSeconds: (v: VirtualService, mode: 'negotiate' | 'connect') => number;
  readonly inMaintenance?: (r: RealServer) => Promise<boolean>;
  /** Runs `fallbackcommand start|stop <vip>:<vport> <proto>`; injectable for tests. */
  readonly fallbackCommand?: (command: string, args: readonly string[]) => void;
  /** Told of every check and convergence (the metrics); nothing here depends on it. */
  readonly observer?: DirectorObserver;
  readonly now?: () => number;
}

export interface DirectorObserver {
  /** A probe's result (not maintenance, not checktype=on/off, which probe nothing). */
  checked(entry: RealEntry, result: CheckResult): void;
  converged(result: ConvergeResult): void;
}

/** What the status shows of one configured real of a virtual. */
export interface RealView {
  readonly state: RealState;
  readonly entry?: RealEntry;
  /** The weight the director wants for it now (the slowstart step while ramping). */
  readonly wantWeight: number;
  /** When a slowstart ramp in progress reaches the full weight (ms since the epoch). */
  readonly rampEndsAt?: number;
}

export class StartError extends Error {}

/** The purge at stop did not leave the table as cleanstop wants it; the message names what remains. */
export class StopError extends Error {}

/** What a convergence looks at: every managed service, or those with these keys. */
type Scope = ReadonlySet<string> | 'all';

const covers = (have: Scope, want: Scope): boolean =>
  have === 'all' || (want !== 'all' && [...want].every((k) => have.has(k)));

interface ServiceIndex {
  /** serviceKey() of each virtual, in config order. */
  readonly keys: readonly string[];
  /** The first virtual of each service key. */
  readonly byKey: ReadonlyMap<string, VirtualService>;
}

/**
 * Per config, computed once: every convergence needs the managed keys, and every applied
 * command its virtual (a linear search cost 10,000 x 1,000 serviceOf() calls when 10,000
 * reals came up at once: bench/RESULTS.md, scale).
 */
const serviceIndexes = new WeakMap<Config, ServiceIndex>();
function serviceIndex(config: Config): ServiceIndex {
  let index = serviceIndexes.get(config);
  if (!index) {
    const keys = config.virtuals.map(virtualKey);
    const byKey = new Map<string, VirtualService>();
    keys.forEach((k, i) => { if (!byKey.has(k)) byKey.set(k, config.virtuals[i]!); });
    index = { keys, byKey };
    serviceIndexes.set(config, index);
  }
  return index;
}

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
  /** Per command target: the "not made" line last logged, so that a lasting refusal is logged once. */
  private readonly notMade = new Map<string, string>();
  private driftTimer: NodeJS.Timeout | undefined;
  /**
   * The listings as ipvsadm printed them when a drift check last found the table as
   * wanted, while no check result or reload has come in since (`dirty`): the next drift
   * check that reads the same text has nothing to do, and skips parsing, the desired state
   * and the diff (10,000 reals: most of the daemon's idle CPU).
   */
  private quietListing: string | undefined;
  private dirty = true;
  /** What the last convergence found to do, for the drift check. */
  private lastConverge: { planned: number; ok: boolean } | undefined;
  /** Per virtual id: the fallbackcommand state last run ('start' | 'stop'). */
  private readonly fallbackState = new Map<string, 'start' | 'stop'>();
  private stopping = false;
  private readonly now: () => number;
  /** Entry id -> when it came up, for reals whose slowstart ramp may still run. */
  private readonly rampStart = new Map<string, number>();
  private rampTimer: NodeJS.Timeout | undefined;
  /** The IPVS table as last read (start, every convergence). */
  private lastTable: { readonly table: IpvsTable; readonly at: number } | undefined;

  constructor(
    config: Config,
    private readonly deps: DirectorDeps,
  ) {
    this.config = config;
    this.now = deps.now ?? Date.now;
    this.reconciler = new IpvsReconciler(deps.ipvsadm);
    this.runner = new CheckRunner({
      probe: deps.probe,
      timeoutSeconds: deps.timeoutSeconds,
      ...(deps.inMaintenance ? { inMaintenance: deps.inMaintenance } : {}),
      onTransition: (e, t, r) => this.onTransition(e, t, r),
    });
  }

  get daemonStatus(): DaemonStatus {
    return this.status;
  }

  get currentConfig(): Config {
    return this.config;
  }

  entries(): Iterable<RealEntry> {
    return this.runner.all();
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
    const since = entry ? this.rampStart.get(entry.id) : undefined;
    const ramp = since !== undefined && v.slowstart > 0 ? slowStartWeight(r.weight, v.slowstart, this.now() - since) : undefined;
    const state = this.stateOf(v, r);
    return {
      state,
      ...(entry ? { entry } : {}),
      // what weightOf() gives: the step while a ramp runs
      wantWeight: state === 'up' ? (ramp?.weight ?? r.weight) : 0,
      ...(state === 'up' && ramp?.nextChangeInMs !== undefined ? { rampEndsAt: since! + v.slowstart * 1000 } : {}),
    };
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

  /** Second half of start-up: the initial checks; then the daemon is "running". */
  async run(): Promise<void> {
    await this.runner.checkAllNow();
    // A stop during the first checks has purged the table: nothing may come back.
    if (this.stopping) return;
    await this.requestConverge();
    // Nor during the convergence on them: the checks must not be scheduled again.
    if (this.stopping) return;
    this.status = 'running';
    this.runner.start();
    this.armDriftRepair();
  }

  async reload(edited: Config): Promise<void> {
    if (this.stopping) return;
    // Only the virtuals the edit concerns (and those dropped) are read and converged; the
    // rest stay as the last convergence left them, and the drift check still compares all.
    const plan = planReload(this.config, edited);
    const next = plan.config;
    this.status = 'reloading';
    this.dirty = true;
    const old = new Set(this.managedKeys(this.config));
    const now = new Set(this.managedKeys(next));
    this.dropped = [...new Set([...this.dropped, ...[...old].filter((k) => !now.has(k))])];
    const scope: Scope = plan.scope === 'all' ? 'all' : new Set([...plan.scope, ...this.dropped]);
    this.config = next;
    // The table as last read serves as the starting point when the last convergence
    // worked: the batch's read-back verifies it, and a pass more corrects a change made
    // meanwhile by hand (one ipvsadm run, not two, per reload). Nothing changed for the
    // table (say, a comment edited): nothing to read or run at all.
    let table: IpvsTable | undefined = scope !== 'all' && scope.size === 0 ? { services: [] }
      : scope !== 'all' && this.lastTable && this.lastIpvsError === '' && this.lastConverge?.ok ? this.lastTable.table : undefined;
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
    this.status = 'running';
    this.armDriftRepair();
  }

  /**
   * cleanstop: purge each managed virtual. What the table read back shows purged is
   * logged and mailed (its up reals first, as the original logs them); a virtual still in
   * the table, or a table that could not be read, is a StopError naming them.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.status = 'stopping';
    if (this.driftTimer) clearInterval(this.driftTimer);
    if (this.rampTimer) clearTimeout(this.rampTimer);
    await this.runner.stop();
    if (this.converging) await this.converging;
    const purge = this.config.virtuals.filter((v) => v.cleanstop);
    if (purge.length === 0) return;
    // With the virtuals a reload dropped and no convergence has deleted yet.
    const keys = [...new Set([...purge.map(virtualKey), ...this.dropped])];
    // The reals up now, per service: "Purged real server (stop)" once the purge is confirmed.
    const upReals = new Map<string, { virtual: VirtualService; rip: string }[]>();
    for (const v of purge) {
      const list = upReals.get(virtualKey(v)) ?? [];
      for (const r of v.reals) if (this.stateOf(v, r) === 'up') list.push({ virtual: v, rip: realAddress(r) });
      upReals.set(virtualKey(v), list);
    }
    // Only these services are managed here, and none of them is wanted any more.
    const result = await this.reconciler.converge({ services: [] }, keys);
    const label = (k: string): string => {
      const v = serviceIndex(this.config).byKey.get(k);
      return v ? serviceLabel(serviceOf(v)) : k;
    };
    const servers = desiredState(this.config, { current: { services: [] }, stateOf: () => 'unknown' });
    const purged = new Set<string>();
    for (const c of result.applied) {
      if (c.op === 'delete-service') {
        purged.add(serviceKey(c.service));
        for (const { virtual, rip } of upReals.get(serviceKey(c.service)) ?? []) {
          const line = purgedRealServer('stop', rip, virtual.name);
          this.deps.log.log(line);
          this.deps.alerts.alert({ subject: line, virtual, real: rip, remind: false });
        }
      }
      this.deps.log.log(logLineFor(c, servers, 'stop'));
    }
    for (const f of result.failures) {
      this.deps.log.log(commandFailed(formatCommandLine(this.deps.ipvsadm.path, f.args), f.stderr || `exit status ${f.exitCode}`));
    }
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
  requestConverge(scope: Scope = 'all', current?: IpvsTable): Promise<void> {
    // After stop() has begun, only its own purge may touch the table.
    if (this.stopping) return this.converging ?? Promise.resolve();
    if (scope === 'all' || this.pending === 'all') this.pending = 'all';
    else for (const k of scope) this.pending.add(k);
    if (this.converging) {
      this.again = true;
      return this.converging;
    }
    this.converging = (async () => {
      let known = current ? { table: current, scope } : undefined;
      do {
        this.again = false;
        const taken = this.pending;
        this.pending = new Set();
        const result = await this.convergeNow(taken, known);
        // Check results that came in meanwhile: the table this convergence has just read
        // back is where the next one starts (a 10,000-destination listing less per round;
        // drift by others is still caught by the drift check and by each read-back).
        known = result?.after && !result.error ? { table: result.after, scope: result.scope } : undefined;
      } while (this.again && !this.stopping);
    })().finally(() => {
      this.converging = null;
    });
    return this.converging;
  }

  /** Lines for the USR1 status dump. */
  statusLines(): string[] {
    const lines = [`Status: ${this.status}, ${this.config.virtuals.length} virtual services`];
    for (const v of this.config.virtuals) {
      for (const r of v.reals) {
        const e = this.runner.get(checkKey(v, r));
        const st = this.stateOf(v, r);
        const last = e?.lastResult ? `, last check ${e.lastResult.ok ? 'ok' : 'failed'}: ${e.lastResult.message}` : '';
        const rising = e && e.state.successCount > 0 ? ` (${e.state.successCount}/${v.successcount} successes)` : '';
        const view = this.realView(v, r);
        const ramp = view.rampEndsAt !== undefined ? ` (slow start: weight ${view.wantWeight} of ${r.weight})` : '';
        lines.push(`  ${v.id} real ${realAddress(r)} ${st}${e && e.state.failCount > 0 ? ` (${e.state.failCount} soft failures)` : ''}${rising}${ramp}${last}`);
      }
    }
    return lines;
  }

  private managedKeys(config: Config): readonly string[] {
    return serviceIndex(config).keys;
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

  private stateOf(v: VirtualService, r: RealServer): RealState {
    const e = this.runner.get(checkKey(v, r));
    if (!e || !e.checked) return 'unknown';
    return e.state.status === 'up' ? 'up' : e.state.status === 'down' ? 'down' : 'unknown';
  }

  /**
   * `known`: a table read just now, to start from when it holds the whole scope (else
   * converge reads it). Services a reload dropped are always in the scope: they go.
   */
  private async convergeNow(
    scope: Scope, known?: { readonly table: IpvsTable; readonly scope: Scope },
  ): Promise<(ConvergeResult & { readonly scope: Scope }) | undefined> {
    let desired: DesiredState | undefined;
    // One config for the whole convergence: a reload may swap this.config while the table
    // is being read, and the desired table must stay within the services managed here.
    const config = this.config;
    const dropped = this.dropped;
    const only = scope === 'all' ? undefined : new Set([...scope, ...dropped]);
    // What may be changed: the managed services (of the scope), and those a reload dropped.
    // A key of the scope that is neither (a late check result of a virtual gone and already
    // deleted) is left alone.
    const byKey = serviceIndex(config).byKey;
    const managed = only ? [...only].filter((k) => byKey.has(k) || dropped.includes(k)) : [...new Set([...this.managedKeys(config), ...dropped])];
    const current = known && covers(known.scope, only ?? 'all') ? known.table : undefined;
    const result = await this.reconciler.converge((table) => {
      desired = desiredState(config, {
        current: table,
        stateOf: (v, r) => this.stateOf(v, r),
        weightOf: (v, r) => this.weightOf(v, r),
        previouslyManaged: dropped,
        ...(only ? { scope: only } : {}),
      });
      return desired.table;
    }, managed, { ...(current ? { current } : {}), ...(only ? { scope: only } : {}) });
    if (result.after) {
      // A scoped read is fresh for its services; the others are as last read.
      const table = only && this.lastTable ? replaceServices(this.lastTable.table, result.after, only) : result.after;
      this.lastTable = { table, at: this.now() };
    }
    this.lastConverge = { planned: result.planned.length, ok: result.ok && !result.error };
    this.report(result, desired, only === undefined);
    this.deps.observer?.converged(result);
    this.armRampStep();
    if (!result.error) {
      // Only what this convergence deleted: a reload meanwhile may have dropped more.
      if (result.ok) this.dropped = this.dropped.filter((k) => !dropped.includes(k));
      this.runFallbackCommands(only);
    }
    return { ...result, scope: only ?? 'all' };
  }

  /**
   * Logs and mails what the table read back shows changed; what was sent and does not
   * show, with what the table shows instead; and ipvsadm's failures. `whole`: the
   * convergence looked at every managed service.
   */
  private report(result: ConvergeResult, desired: DesiredState | undefined, whole: boolean): void {
    const servers = desired ?? desiredState(this.config, { current: { services: [] }, stateOf: () => 'unknown' });
    let before: Map<string, IpvsService> | undefined;
    // indexed only when a ramp step needs it (the table may be the whole of a large one)
    const beforeIndex = (): Map<string, IpvsService> => (before ??= indexServices(result.before ?? { services: [] }));
    for (const c of result.applied) {
      const line = logLineFor(c, servers, 'start');
      this.deps.log.log(line);
      if (this.notMade.size > 0) this.notMade.delete(commandTarget(c));
      if (!this.isRampStep(c, beforeIndex, servers)) this.alertFor(c, line, servers);
    }
    for (const f of result.failures) {
      this.deps.log.log(commandFailed(formatCommandLine(this.deps.ipvsadm.path, f.args), f.stderr || `exit status ${f.exitCode}`));
    }
    if (result.error) {
      // Once changes were sent, those after the last read-back may or may not have taken.
      const msg = result.sent === 0 ? `IPVS table not changed: ${result.error.message}` : changesUnconfirmed(result.error.message);
      // Once per distinct error, not once per check interval.
      if (msg !== this.lastIpvsError) this.deps.log.log(msg);
      this.lastIpvsError = msg;
      return;
    }
    this.lastIpvsError = '';
    if (result.unapplied.length > 0 && result.after) {
      const services = indexServices(result.after);
      for (const c of result.unapplied) {
        const line = changeNotMade(logLineFor(c, servers, 'start'), tableShows(c, services));
        const target = commandTarget(c);
        if (this.notMade.get(target) === line) continue;
        this.notMade.set(target, line);
        this.deps.log.log(line);
      }
    }
    if (whole && result.ok) this.notMade.clear();
  }

  /**
   * A slowstart step after the first (weight raised from one value above 0 to
   * another while a ramp runs): logged like any change, but mailed only once,
   * when the real comes back.
   */
  private isRampStep(c: IpvsCommand, before: () => Map<string, IpvsService>, desired: DesiredState): boolean {
    if (c.op !== 'edit-destination' || c.destination.weight === 0 || this.rampStart.size === 0) return false;
    const key = serviceKey(c.service);
    const was = before().get(key);
    const d = was ? indexDestinations(was).get(destinationKey(c.destination)) : undefined;
    if (!d || d.weight === 0) return false;
    const real = desired.servers.get(commandTarget(c))?.real;
    const virtual = serviceIndex(this.config).byKey.get(key);
    const e = real && virtual ? this.runner.get(checkKey(virtual, real)) : undefined;
    // Still in the map at the last step: finished ramps are forgotten after the report.
    return e !== undefined && this.rampStart.has(e.id);
  }

  /** The configured weight, or the slowstart step while a ramp runs. */
  private weightOf(v: VirtualService, r: RealServer): number {
    if (v.slowstart === 0) return r.weight;
    const e = this.runner.get(checkKey(v, r));
    const since = e ? this.rampStart.get(e.id) : undefined;
    if (since === undefined) return r.weight;
    return slowStartWeight(r.weight, v.slowstart, this.now() - since).weight;
  }

  /** One timer for the next slowstart step of any real; finished ramps are forgotten. */
  private armRampStep(): void {
    if (this.rampTimer) clearTimeout(this.rampTimer);
    this.rampTimer = undefined;
    if (this.rampStart.size === 0 || this.stopping) return;
    let next = Number.POSITIVE_INFINITY;
    const now = this.now();
    // Only the ramps under way, not every real: this runs after every convergence.
    for (const [id, since] of this.rampStart) {
      const e = this.runner.get(id);
      let ramping = false;
      for (const { virtual: v, real: r } of e?.state.status === 'up' ? e.members : []) {
        if (v.slowstart === 0) continue;
        const p = slowStartWeight(r.weight, v.slowstart, now - since);
        if (p.nextChangeInMs === undefined) continue;
        ramping = true;
        next = Math.min(next, p.nextChangeInMs);
      }
      if (!ramping) this.rampStart.delete(id);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    // A little after the step boundary, so that the step has surely begun.
    this.rampTimer = setTimeout(() => {
      this.rampTimer = undefined;
      void this.requestConverge();
    }, next + 20);
  }

  private alertFor(c: IpvsCommand, subject: string, desired: DesiredState): void {
    if (c.op === 'add-service' || c.op === 'edit-service' || c.op === 'delete-service') return;
    const key = serviceKey(c.service);
    const virtual = serviceIndex(this.config).byKey.get(key);
    if (!virtual) return;
    const known = desired.servers.get(commandTarget(c));
    const rip = known?.configured ?? destinationKey(c.destination);
    const remind =
      known?.role === 'real' && (c.op === 'delete-destination' || c.destination.weight === 0);
    this.deps.alerts.alert({ subject, virtual, real: rip, remind });
  }

  /**
   * fallbackcommand start|stop, once per change of "no real is up" (spec §4.5), for the
   * virtuals of the convergence's scope: a real's state change puts its virtuals in one.
   */
  private runFallbackCommands(scope: ReadonlySet<string> | undefined): void {
    for (const v of this.config.virtuals) {
      if (!v.fallbackcommand || (scope && !scope.has(virtualKey(v)))) continue;
      const states = v.reals.map((r) => this.stateOf(v, r));
      if (states.includes('up') === false && states.includes('unknown')) continue;
      const want = states.includes('up') ? 'stop' : 'start';
      if (this.fallbackState.get(v.id) === want || (want === 'stop' && !this.fallbackState.has(v.id))) {
        this.fallbackState.set(v.id, want);
        continue;
      }
      this.fallbackState.set(v.id, want);
      const vip = v.protocol === 'fwm' ? `:0` : `${v.ip}:${v.port}`;
      const run = this.deps.fallbackCommand ?? ((cmd, args) => runFallbackCommand(cmd, args, (m) => this.deps.log.log(m)));
      run(v.fallbackcommand, [want, vip, v.protocol]);
    }
  }

  private onTransition(e: RealEntry, t: Transition, result: CheckResult | undefined): void {
    if (result && result !== MAINTENANCE_RESULT) this.deps.observer?.checked(e, result);
    for (const line of result?.log ?? []) this.deps.log.log(line);
    for (const { virtual, real } of e.members) {
      if (result && !result.skipMonitorfile && virtual.monitorfile) {
        this.deps.monitor.write(virtual.monitorfile, realId(virtual, real), result.ok ? 'up' : 'down', result.message);
      }
      if (t.kind === 'soft-failure') this.deps.log.log(softFailure(real.ip, real.port, virtual.id, t.count, t.limit));
      if (t.kind === 'reset-soft-failure' || (t.kind === 'up' && t.resetFrom > 0))
        this.deps.log.log(resettingSoftFailure(real.ip, real.port, virtual.id));
      const rising = t.kind === 'soft-success' ? t : t.kind === 'down' ? t.rising : undefined;
      if (rising) this.deps.log.log(softSuccess(real.ip, real.port, virtual.id, rising.count, rising.limit));
    }
    // A real that comes up once the daemon runs ramps (slowstart); the initial
    // checks at start-up do not: the whole service starts at full weight.
    if (t.kind === 'up' && this.status !== 'starting' && e.members.some((m) => m.virtual.slowstart > 0)) this.rampStart.set(e.id, this.now());
    if (t.kind === 'down') this.rampStart.delete(e.id);
    if (t.kind === 'up' || t.kind === 'down') {
      this.dirty = true;
      this.deps.log.debug(2, `${t.kind === 'up' ? 'Enabled' : 'Disabled'} real server=${e.realId}`);
      if (this.status !== 'starting') void this.requestConverge(new Set(e.members.map((m) => virtualKey(m.virtual))));
    }
  }

  private armDriftRepair(): void {
    if (this.driftTimer) clearInterval(this.driftTimer);
    if (this.stopping) return;
    const interval = Math.min(...this.config.virtuals.map((v) => v.checkinterval), this.config.globals.checkinterval);
    this.driftTimer = setInterval(() => {
      void this.repairDrift();
      this.deps.alerts.sendReminders();
    }, interval * 1000);
  }

  /** Reads the table; converges unless it is, to the byte, the table last found right. */
  private async repairDrift(): Promise<void> {
    if (this.converging) return this.requestConverge();
    let text: string;
    let table: IpvsTable;
    try {
      text = await this.reconciler.readListings();
      if (text === this.quietListing && !this.dirty) return;
      table = parseListings(text);
    } catch {
      return this.requestConverge(); // reports the error as every convergence does
    }
    if (this.converging) return this.requestConverge();
    this.dirty = false;
    await this.requestConverge('all', table);
    const last = this.lastConverge;
    this.quietListing = !this.dirty && last?.ok && last.planned === 0 ? text : undefined;
  }
}
