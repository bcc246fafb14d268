// Puts the daemon's deciding core together: the check runner publishes each result on
// the event stream; the notifications, the metrics, the slowstart ramps, the
// fallbackcommand state and the drift check's schedule subscribe to it, in that order,
// and so does the Director, last: a transition's lines are written before the
// convergence it asks for, and a convergence's lines and mails before the ramp timer is
// armed again and fallbackcommand runs. The IPVS sync daemons' keeper follows only the
// daemon's phases (its schedule, and the config a reload put in force).
import type { CheckResult } from '../../checks/types.js';
import type { Config, RealServer } from '../config/model.js';
import type { ConvergeResult } from '../ipvs/converge.js';
import type { IpvsadmRunner } from '../ipvs/ipvsadm-runner.js';
import { CheckRunner, MAINTENANCE_RESULT, type CheckerLookup, type RealEntry } from './check-runner.js';
import { Director } from './director.js';
import { DriftRepairSchedule } from './drift-repair.js';
import { ProcDriftGate } from './proc-drift-gate.js';
import { defaultIpvsProcFile } from '../ipvs/proc-table.js';
import { FallbackCommands, type RunFallbackCommand } from './fallback-command-state.js';
import { runFallbackCommand } from './run-fallback-command.js';
import { Notifications, type AlertSink, type DaemonLog, type MonitorSink } from './notifications.js';
import { RampSchedule } from './ramp-schedule.js';
import { SyncDaemonKeeper } from './sync-daemon-keeper.js';
import { DaemonEvents } from './transition-events.js';

/** Counts checks and convergences (the metrics); nothing depends on it. */
export interface DirectorObserver {
  /** A probe's result (not maintenance, not checktype=on/off, which probe nothing). */
  checked(entry: RealEntry, result: CheckResult): void;
  converged(result: ConvergeResult): void;
}

export interface DirectorParts {
  readonly log: DaemonLog;
  readonly ipvsadm: IpvsadmRunner;
  readonly alerts: AlertSink;
  readonly monitor: MonitorSink;
  /** The checkers' registry unless a test scripts them. */
  readonly checkers?: CheckerLookup;
  readonly inMaintenance?: (r: RealServer) => boolean | Promise<boolean>;
  /** Runs `fallbackcommand start|stop <vip>:<vport> <proto>`; injectable for tests. */
  readonly fallbackCommand?: RunFallbackCommand;
  readonly observer?: DirectorObserver;
  readonly now?: () => number;
  /**
   * The kernel's table as /proc shows it, for cheap drift checks: default
   * defaultIpvsProcFile(); null: none (every drift check runs ipvsadm).
   */
  readonly ipvsProcFile?: string | null;
  /** A full read at least this often (default FULL_READ_EVERY_MS). */
  readonly fullReadEveryMs?: number;
}

export interface AssembledDirector {
  readonly director: Director;
  /** The stream to subscribe to (onRealTransition for each real's state changes). */
  readonly events: DaemonEvents;
  /** The IPVS sync daemons (syncdaemon=): started with the table, stopped after the purge. */
  readonly syncDaemons: SyncDaemonKeeper;
}

export function assembleDirector(config: Config, parts: DirectorParts): AssembledDirector {
  const now = parts.now ?? Date.now;
  const events = new DaemonEvents();
  let phaseOf: () => Director['daemonStatus'] = () => 'starting';
  const runner = new CheckRunner({
    ...(parts.checkers ? { checkers: parts.checkers } : {}),
    ...(parts.inMaintenance ? { inMaintenance: parts.inMaintenance } : {}),
    onTransition: (entry, transition, result, from) =>
      events.emit({ type: 'checked', entry, transition, result, from, phase: phaseOf(), at: now() }),
    now,
  });
  const ramps = new RampSchedule(events, runner, now);
  const observer = parts.observer;
  if (observer) {
    events.on('checked', ({ entry, result }) => {
      if (result && result !== MAINTENANCE_RESULT) observer.checked(entry, result);
    });
  }
  const notifications = new Notifications({
    log: parts.log,
    alerts: parts.alerts,
    monitor: parts.monitor,
    ipvsadmPath: parts.ipvsadm.path,
    ramps,
  });
  notifications.subscribe(events);
  ramps.subscribeTransitions();
  if (observer) events.on('converged', ({ result }) => observer.converged(result));
  ramps.subscribeConvergences();
  new FallbackCommands(parts.fallbackCommand ?? ((cmd, args) => runFallbackCommand(cmd, args, (m) => parts.log.log(m)))).subscribe(events);
  const drift = new ProcDriftGate({
    file: parts.ipvsProcFile === undefined ? defaultIpvsProcFile() : (parts.ipvsProcFile ?? undefined),
    ...(parts.fullReadEveryMs !== undefined ? { fullReadEveryMs: parts.fullReadEveryMs } : {}),
    now,
  });
  const director = new Director(config, { ipvsadm: parts.ipvsadm, runner, ramps, events, now, drift });
  phaseOf = () => director.daemonStatus;
  director.subscribe();
  notifications.subscribeReminders(events);
  new DriftRepairSchedule(events).subscribe();
  const syncDaemons = new SyncDaemonKeeper({ ipvsadm: parts.ipvsadm, log: (m) => parts.log.log(m), now });
  syncDaemons.subscribe(events);
  return { director, events, syncDaemons };
}
