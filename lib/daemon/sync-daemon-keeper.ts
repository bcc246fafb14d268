// Keeps the kernel's IPVS connection-sync daemons as syncdaemon= says: started (or
// restarted with new parameters) at start-up and at each reload, looked at again once per
// shortest checkinterval (a role that went away behind our back is started again), and at
// the stop the master role is stopped while the backup role keeps running: a director
// that stops because the cluster manager moved the service away is the one that must have
// received the active director's connections for the next takeover.
// With syncdaemon=none (the default) nothing here ever runs ipvsadm.
// One step at a time; an ipvsadm that fails is logged (once per distinct error) and the
// next look tries again: the daemon itself never depends on the sync daemons.
import type { Config, SyncDaemonSettings, SyncRole } from '../config/model.js';
import { formatCommandLine, type IpvsadmRunner } from '../ipvs/ipvsadm-runner.js';
import {
  describeDaemon,
  readSyncDaemons,
  runDaemonCommand,
  startDaemonArgs,
  stopDaemonArgs,
  wantedDaemons,
  type SyncDaemon,
} from '../ipvs/sync-daemons.js';
import { planSyncDaemons, rolesToStopOnExit, type SyncStep } from './sync-daemon-plan.js';
import type { DaemonEvents } from './transition-events.js';

export interface SyncDaemonView {
  /** The config's syncdaemon= (none: never touched). */
  readonly mode: SyncDaemonSettings['mode'] | 'none';
  readonly wanted: readonly SyncDaemon[];
  /** What the kernel ran at the last look; undefined before the first (always, with none). */
  readonly running?: readonly SyncDaemon[];
  readonly readAt?: number;
  /** The last failure, '' once a look or step worked again. */
  readonly error: string;
}

export interface SyncKeeperDeps {
  readonly ipvsadm: IpvsadmRunner;
  readonly log: (m: string) => void;
  readonly now?: () => number;
}

type Why = 'start' | 'reload' | 'watch';

export class SyncDaemonKeeper {
  private settings: SyncDaemonSettings | undefined;
  private wanted: SyncDaemon[] = [];
  private running: SyncDaemon[] | undefined;
  private readAt: number | undefined;
  private error = '';
  private loggedError = '';
  private failures = 0;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly deps: SyncKeeperDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Looks again on the drift check's schedule; follows the config a reload put in force. */
  subscribe(events: DaemonEvents): void {
    events.on('phase', ({ phase, config }) => {
      if (phase === 'running') {
        if (JSON.stringify(config.globals.syncdaemon) !== JSON.stringify(this.settings))
          void this.follow(config.globals.syncdaemon, 'reload');
        this.arm(config);
      } else if (phase === 'stopping') this.disarm();
    });
  }

  view(): SyncDaemonView {
    return {
      mode: this.settings?.mode ?? 'none',
      wanted: this.wanted,
      ...(this.running ? { running: this.running } : {}),
      ...(this.readAt !== undefined ? { readAt: this.readAt } : {}),
      error: this.error,
    };
  }

  /** Start-up (`start`) and reloads: start, restart or stop only what differs. */
  follow(settings: SyncDaemonSettings | undefined, why: Exclude<Why, 'watch'> = 'start'): Promise<void> {
    return this.enqueue(async () => {
      const before = new Set(this.wanted.map((d) => d.role));
      this.settings = settings;
      this.wanted = wantedDaemons(settings);
      const dropped = [...before].filter((r) => !this.wanted.some((w) => w.role === r));
      if (this.wanted.length === 0) {
        this.running = undefined;
        this.readAt = undefined;
        this.error = '';
        if (dropped.length === 0) return;
      }
      await this.pass(dropped, why);
    });
  }

  /** One look on the schedule; skipped while another is queued or under way. */
  watch(): Promise<void> {
    if (this.pending > 0 || this.wanted.length === 0) return Promise.resolve();
    return this.enqueue(() => this.pass([], 'watch'));
  }

  /** The daemon stops: the master role goes, the backup role stays. Nothing after this. */
  stop(): Promise<void> {
    this.disarm();
    const done = this.enqueue(async () => {
      if (this.wanted.length === 0) return;
      const running = await this.read(false);
      if (!running) return;
      for (const d of rolesToStopOnExit(this.wanted, running)) {
        if (await this.run(stopDaemonArgs(d.role), `cannot stop IPVS sync daemon ${describeDaemon(d)}`, false))
          this.deps.log(`IPVS sync daemon ${describeDaemon(d)} stopped`);
      }
      for (const d of running.filter((r) => r.role === 'backup' && this.wanted.some((w) => w.role === 'backup'))) {
        this.deps.log(
          `IPVS sync daemon ${describeDaemon(d)} left running: it receives the active director's connections for the next takeover`,
        );
      }
      await this.read(false);
    });
    this.stopped = true;
    return done;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.pending++;
    const run = this.queue
      .then(async () => {
        const before = this.failures;
        await step();
        // All went well: the state is clean again, and the next failure is worth a line.
        if (this.failures === before) this.error = this.loggedError = '';
      })
      .finally(() => this.pending--);
    // A step never rejects the queue: its failures are logged where they happen.
    this.queue = run.catch((err: Error) => this.failed(`IPVS sync daemons: ${err.message}`));
    return this.queue;
  }

  private async pass(dropped: readonly SyncRole[], why: Why): Promise<void> {
    const running = await this.read();
    if (!running) return;
    const steps = planSyncDaemons(this.wanted, running, dropped);
    if (why === 'start') {
      const kept = running.filter((d) => this.wanted.some((w) => w.role === d.role) && !steps.some((s) => roleOf(s) === d.role));
      for (const d of kept) this.deps.log(`IPVS sync daemon ${describeDaemon(d)} already running`);
    }
    if (steps.length === 0) return;
    for (const s of steps) await this.apply(s, why);
    await this.read();
  }

  private async apply(s: SyncStep, why: Why): Promise<void> {
    const { log } = this.deps;
    if (s.op === 'stop') {
      if (await this.run(stopDaemonArgs(s.running.role), `cannot stop IPVS sync daemon ${describeDaemon(s.running)}`))
        log(`IPVS sync daemon ${describeDaemon(s.running)} stopped: no longer configured`);
      return;
    }
    if (s.op === 'restart') {
      log(`IPVS sync daemon ${describeDaemon(s.running)} runs with other parameters than configured: restarting it`);
      if (!(await this.run(stopDaemonArgs(s.daemon.role), `cannot stop IPVS sync daemon ${describeDaemon(s.running)}`))) return;
    } else if (why === 'watch' && this.loggedError === '') {
      // (While a start keeps failing, its error line says it all.)
      log(`IPVS sync daemon ${s.daemon.role} is not running: starting it again`);
    }
    const args = startDaemonArgs(s.daemon);
    if (await this.run(args, `cannot start IPVS sync daemon ${describeDaemon(s.daemon)}`))
      log(`IPVS sync daemon ${describeDaemon(s.daemon)} started: ${formatCommandLine(this.deps.ipvsadm.path, args)}`);
  }

  /** Runs one command; false (logged) when it failed. `retried`: false at the stop, after which nothing runs. */
  private async run(args: readonly string[], what: string, retried = true): Promise<boolean> {
    try {
      await runDaemonCommand(this.deps.ipvsadm, args);
      return true;
    } catch (err) {
      this.failed(`${what}: ${(err as Error).message}${retried ? ' (tried again at the next check)' : ''}`);
      return false;
    }
  }

  private async read(retried = true): Promise<SyncDaemon[] | undefined> {
    try {
      this.running = await readSyncDaemons(this.deps.ipvsadm);
      this.readAt = this.now();
      return this.running;
    } catch (err) {
      this.failed(`cannot read the IPVS sync daemons: ${(err as Error).message}${retried ? ' (tried again at the next check)' : ''}`);
      return undefined;
    }
  }

  private failed(message: string): void {
    this.failures++;
    this.error = message;
    // A lasting failure (an interface gone) would otherwise fill the log every check.
    if (message !== this.loggedError) this.deps.log(message);
    this.loggedError = message;
  }

  private arm(config: Config): void {
    this.disarm();
    if (this.stopped) return;
    const interval = Math.min(...config.virtuals.map((v) => v.checkinterval), config.globals.checkinterval);
    this.timer = setInterval(() => void this.watch(), interval * 1000);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function roleOf(s: SyncStep): SyncRole {
  return s.op === 'stop' ? s.running.role : s.daemon.role;
}
