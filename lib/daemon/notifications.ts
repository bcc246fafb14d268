// What the admin is told, from the event stream: check lines (soft failures, the
// checkers' own lines), monitorfile lines, and, once the table read back confirms
// it, the change lines and alert mails of each convergence and of the clean stop's
// purge (spec §4.3-§4.7, §5); a change that was sent and does not show is logged as
// "IPVS change not made" with what the table shows instead, once while it lasts.
import type { Config, VirtualService } from '../config/model.js';
import type { ConvergeResult } from '../ipvs/converge.js';
import { formatCommandLine } from '../ipvs/ipvsadm-runner.js';
import { desiredState, NOTHING_KNOWN, type DesiredState } from '../ipvs/desired.js';
import { logLineFor, tableShows } from '../ipvs/log-lines.js';
import { changeNotMade, commandFailed, purgedRealServer, resettingSoftFailure, softFailure, softSuccess } from '../ipvs/messages.js';
import { commandTarget, type IpvsCommand } from '../ipvs/commands.js';
import { destinationKey, indexServices, serviceKey, type IpvsService } from '../ipvs/table.js';
import { convergenceErrorLine } from './convergence-error.js';
import { realId } from './real-id.js';
import type { RampSchedule } from './ramp-schedule.js';
import { serviceIndex } from './service-index.js';
import type { CheckedEvent, ConvergedEvent, DaemonEvents, PurgedEvent } from './transition-events.js';

export interface DaemonLog {
  log(message: string): void;
  debug(level: number, message: string): void;
}

export interface AlertSink {
  alert(ev: { subject: string; virtual: VirtualService; real: string; remind: boolean }): void;
  sendReminders(): number;
}

export interface MonitorSink {
  write(path: string, realId: string, state: 'up' | 'down', message?: string): void;
}

export interface NotificationDeps {
  readonly log: DaemonLog;
  readonly alerts: AlertSink;
  readonly monitor: MonitorSink;
  /** ipvsadm's path, as failed command lines show it. */
  readonly ipvsadmPath: string;
  /** The mail-once rule of slowstart steps. */
  readonly ramps: RampSchedule;
}

export class Notifications {
  private lastIpvsError = '';
  /** Per command target: the "not made" line last logged, so that a lasting refusal is logged once. */
  private readonly notMade = new Map<string, string>();

  constructor(private readonly deps: NotificationDeps) {}

  subscribe(events: DaemonEvents): void {
    events.on('checked', (e) => this.checked(e));
    events.on('converged', (e) => this.converged(e));
    events.on('purged', (e) => this.purged(e));
  }

  /** Reminders of reals still down go out with each drift check, after it has begun. */
  subscribeReminders(events: DaemonEvents): void {
    events.on('converge-wanted', (e) => {
      if (e.why === 'drift-check') this.deps.alerts.sendReminders();
    });
  }

  private checked({ entry, transition: t, result }: CheckedEvent): void {
    const { log } = this.deps;
    if (result?.log !== undefined) for (const line of result.log) log.log(line);
    for (const { virtual, real } of entry.members) {
      if (result && !result.skipMonitorfile && virtual.monitorfile) {
        this.deps.monitor.write(virtual.monitorfile, realId(virtual, real), result.ok ? 'up' : 'down', result.message);
      }
      if (t.kind === 'soft-failure') log.log(softFailure(real.ip, real.port, virtual.id, t.count, t.limit));
      if (t.kind === 'reset-soft-failure' || (t.kind === 'up' && t.resetFrom > 0))
        log.log(resettingSoftFailure(real.ip, real.port, virtual.id));
      const rising = t.kind === 'soft-success' ? t : t.kind === 'down' ? t.rising : undefined;
      if (rising) log.log(softSuccess(real.ip, real.port, virtual.id, rising.count, rising.limit));
    }
    if (t.kind === 'up' || t.kind === 'down')
      log.debug(2, `${t.kind === 'up' ? 'Enabled' : 'Disabled'} real server=${realId(entry.target.virtual, entry.target.real)}`);
  }

  /**
   * Logs and mails what the table read back shows changed; what was sent and does not
   * show, with what the table shows instead; and ipvsadm's failures.
   */
  private converged({ config, result, desired, scope }: ConvergedEvent): void {
    const { log } = this.deps;
    const servers = desired ?? desiredState(config, { services: [] }, NOTHING_KNOWN);
    let before: Map<string, IpvsService> | undefined;
    // indexed only when a ramp step needs it (the table may be the whole of a large one)
    const beforeIndex = (): Map<string, IpvsService> => (before ??= indexServices(result.before ?? { services: [] }));
    const virtualOf = (key: string): VirtualService | undefined => serviceIndex(config).byKey.get(key);
    for (const c of result.applied) {
      const line = logLineFor(c, servers, 'start');
      log.log(line);
      if (this.notMade.size > 0) this.notMade.delete(commandTarget(c));
      if (!this.deps.ramps.isRampStep(c, beforeIndex, servers, virtualOf)) this.alertFor(c, line, servers, config);
    }
    this.logFailures(result);
    if (result.error) {
      const msg = convergenceErrorLine(result);
      if (msg !== this.lastIpvsError) log.log(msg);
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
        log.log(line);
      }
    }
    if (scope === undefined && result.ok) this.notMade.clear();
  }

  /** What the purge read back shows purged: its up reals first, as the original logs them. */
  private purged({ config, result, upReals }: PurgedEvent): void {
    const servers = desiredState(config, { services: [] }, NOTHING_KNOWN);
    for (const c of result.applied) {
      if (c.op === 'delete-service') {
        for (const { virtual, rip } of upReals.get(serviceKey(c.service)) ?? []) {
          const line = purgedRealServer('stop', rip, virtual.name);
          this.deps.log.log(line);
          this.deps.alerts.alert({ subject: line, virtual, real: rip, remind: false });
        }
      }
      this.deps.log.log(logLineFor(c, servers, 'stop'));
    }
    this.logFailures(result);
  }

  private logFailures(result: ConvergeResult): void {
    for (const f of result.failures) {
      this.deps.log.log(commandFailed(formatCommandLine(this.deps.ipvsadmPath, f.args), f.stderr || `exit status ${f.exitCode}`));
    }
  }

  private alertFor(c: IpvsCommand, subject: string, desired: DesiredState, config: Config): void {
    if (c.op === 'add-service' || c.op === 'edit-service' || c.op === 'delete-service') return;
    const virtual = serviceIndex(config).byKey.get(serviceKey(c.service));
    if (!virtual) return;
    const known = desired.servers.get(c.service, c.destination);
    const rip = known?.configured ?? destinationKey(c.destination);
    const remind = known?.role === 'real' && (c.op === 'delete-destination' || c.destination.weight === 0);
    this.deps.alerts.alert({ subject, virtual, real: rip, remind });
  }
}
