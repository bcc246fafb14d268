// The daemon process: logging, the instance lock, the pid file, the Director and what
// hangs off it, and the start-up report to the `start` command that launched it.
// Signals, reloads and the status endpoints are wired by their own modules.
import { setFlagsFromString } from 'node:v8';
import type { Config, VirtualService } from '../config/model.js';
import { assembleDirector } from '../daemon/assemble-director.js';
import { StartError } from '../daemon/director.js';
import { Logger } from '../log/log.js';
import { EmailAlerter } from '../daemon/alerts.js';
import { MonitorFiles, monitorWriteError } from '../daemon/monitorfile.js';
import { createMaintenanceCheck } from '../daemon/maintenance.js';
import { createIpvsadmRunner } from '../ipvs/ipvsadm-runner.js';
import { removeOwnPidFile, writePidFile } from './pidfile.js';
import { VERSION_LINE } from '../version.js';
import { runFallbackCommand } from '../daemon/run-fallback-command.js';
import { watchConfig, type ConfigWatch } from '../daemon/config-watch.js';
import { runChildren } from '../daemon/execute-children.js';
import { InstanceLock } from '../daemon/instance-lock.js';
import { Lifecycle } from '../daemon/lifecycle.js';
import { HeapRegime } from './heap-regime.js';
import { ReloadQueue } from './reload.js';
import { wireSignals, type SignalActions } from './signal-wiring.js';
import { reportToLauncher as report } from './start-report.js';
import { StatusEndpoints, type ReloadCounts } from './status-endpoints.js';

export interface DaemonOptions {
  readonly config: Config;
  readonly configPath: string;
  readonly cfgName: string;
  readonly debug: boolean;
  /** Foreground (-d or supervised=yes): no pid file, no chdir. */
  readonly foreground: boolean;
  readonly pidFile: string;
  readonly ipvsadmPath: string;
  /** fd on which the launching `start` waits for "ready" or "error: …". */
  readonly reportFd?: number;
  /** Parses a config file's text for a reload. */
  readonly parse: (
    text: string,
  ) => Promise<{ config?: Config; diagnostics: readonly { severity: 'error' | 'warning'; line: number; message: string }[] }>;
  /** digestText() of the config file's text as `config` was parsed from (autoreload compares with it). */
  readonly configSum?: number;
  /** argv[0..1] to run `ldirectord <child> <cmd>` for execute= instances. */
  readonly selfCommand: readonly string[];
  /** The control socket `status --json` asks (next to the pid file); not in the foreground. */
  readonly controlSocket?: string;
}

/**
 * The old generation may grow by a quarter of what the last full GC left live before the
 * next one, instead of by V8's own factor, which reaches 4 on a host with gigabytes of
 * memory: its high-water mark is the daemon's peak RSS. What a full GC costs depends on how
 * fast checks fill the old generation: little while a real's last result is kept in its
 * entry rather than as the result object, so full GCs stay rare, reals that time out
 * included (figures: bench/RESULTS.md, "Memory at 10,000 reals, third pass").
 * V8 reads the flag whenever it sets the next limit, so setting it here, at run time, is
 * enough, and it applies however node was started.
 */
export const HEAP_GROWING_PERCENT = 25;

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let config = opts.config;
  const logger = new Logger({
    debug: opts.debug,
    supervised: config.globals.supervised,
    logfile: config.globals.logfile,
    cfgname: opts.cfgName,
  });
  const log = (m: string) => logger.log(m);

  // One daemon per configuration, taken before anything else is done: a second
  // daemon leaves the pid file, the table and the log alone. A detached daemon is
  // one per pid file, which `start`, `stop` and `status` find it by. In the
  // foreground there is no pid file, and the original runs `-d` instances of
  // same-named configs in different directories side by side: the config file
  // itself is the key there.
  const lockKey = opts.foreground ? opts.configPath : opts.pidFile;
  let lock: InstanceLock | undefined;
  try {
    lock = await InstanceLock.acquire(lockKey);
  } catch (err) {
    const why = `cannot take the instance lock for ${lockKey}: ${(err as Error).message}`;
    log(why);
    report(opts.reportFd, `error: ${why}\n`);
    await logger.close();
    return 1;
  }
  if (!lock) {
    // The launching `start` follows the other instance (commands.ts).
    report(opts.reportFd, 'locked\n');
    if (opts.foreground) log(`ldirectord for ${opts.configPath} is already running or starting: not started`);
    await logger.close();
    return 1;
  }
  const instance = lock;
  const lifecycle = new Lifecycle((s) => instance.set(s));

  // From here on every signal has its defined outcome (lifecycle.ts); one that comes
  // before a step that can act on it waits for the next step boundary.
  const actions: SignalActions = {
    shutdown: () => undefined,
    reload: () => undefined,
    statusLines: () => ['Status: starting'],
  };
  wireSignals(lifecycle, log, actions);

  if (opts.foreground) log(`Starting ${VERSION_LINE} with pid: ${process.pid}`);
  else {
    log(`Starting ${VERSION_LINE} as daemon`);
    try {
      writePidFile(opts.pidFile);
    } catch (err) {
      log(`Can not open ${opts.pidFile}`);
      // The start command says why too ("EROFS: read-only file system").
      const why = (err as NodeJS.ErrnoException).code ? (err as Error).message.replace(/,.*$/s, '') : (err as Error).message;
      report(opts.reportFd, `error: Can not open ${opts.pidFile}: ${why}\n`);
      await logger.close();
      return 1;
    }
    process.chdir('/');
  }

  const reloads: ReloadCounts = { ok: 0, failed: 0 };
  const endpoints = new StatusEndpoints({ configPath: opts.configPath, reloads }, log);
  const alerter = new EmailAlerter({
    log,
    status: () => director.daemonStatus,
    ...(config.globals.emailalertfrom !== undefined ? { emailalertfrom: config.globals.emailalertfrom } : {}),
  });
  const monitor = new MonitorFiles({ onError: (path, err) => log(monitorWriteError(path, err)) });
  // Follows maintenancedir across reloads.
  const maintenanceChecks = new Map<string, ReturnType<typeof createMaintenanceCheck>>();
  const maintenance = (r: VirtualService['reals'][number]): boolean | Promise<boolean> => {
    const dir = config.globals.maintenancedir;
    if (!dir) return false;
    let check = maintenanceChecks.get(dir);
    if (!check) maintenanceChecks.set(dir, (check = createMaintenanceCheck(dir)));
    return check(r);
  };
  const { director, events, syncDaemons } = assembleDirector(config, {
    log: { log, debug: (l, m) => logger.debug(l, m) },
    ipvsadm: createIpvsadmRunner(opts.ipvsadmPath),
    alerts: alerter,
    monitor,
    inMaintenance: maintenance,
    fallbackCommand: (cmd, args) => runFallbackCommand(cmd, args, log),
    observer: {
      checked: (entry, result) => endpoints.metrics?.checked(entry, result),
      converged: (result) => endpoints.metrics?.converged(result),
    },
  });
  endpoints.attach(director, events, syncDaemons);
  actions.statusLines = () => director.statusLines();

  let watcher: ConfigWatch | undefined;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let stopped = false;

  /**
   * The clean stop, also of a start-up that a signal cut short: `children` are the
   * execute= instances started so far, `purge` whether the table was touched.
   * `startReport` goes to a launching `start` that is still waiting.
   */
  const stopDaemon = async (children: readonly string[], purge: boolean, startReport?: string): Promise<void> => {
    if (stopped) return;
    stopped = true;
    lifecycle.set('stopping');
    const signal = (lifecycle.stopSignal ?? 'SIGTERM').replace(/^SIG/, '');
    watcher?.close();
    await runChildren(opts.selfCommand, children, 'stop', log);
    // A purge that failed leaves virtual services behind: the exit says so.
    let code = 0;
    if (purge) {
      try {
        await director.stop();
      } catch (err) {
        log(`error while stopping: ${(err as Error).message}`);
        code = 1;
      }
    }
    await syncDaemons.stop();
    log(`Linux Director Daemon terminated on signal: ${signal}`);
    await endpoints.close();
    if (!opts.foreground) removeOwnPidFile(opts.pidFile);
    // Only now: `start` returns when the table holds nothing of this start-up.
    if (startReport) report(opts.reportFd, startReport);
    await alerter.idle();
    await monitor.close();
    await logger.close();
    finish(code);
  };
  const shutdown = (): Promise<void> => stopDaemon(config.globals.execute, true);
  actions.shutdown = () => void shutdown();

  /** A start-up step is done: true when a stop came meanwhile and start-up must end. */
  const abandoned = async (children: readonly string[], purge: boolean): Promise<boolean> => {
    if (!lifecycle.stopRequested) return false;
    const signal = lifecycle.stopSignal!.replace(/^SIG/, '');
    log(`Start-up abandoned on signal ${signal}`);
    await stopDaemon(children, purge, `error: stopped by signal ${signal} during start-up\n`);
    return true;
  };

  const heap = new HeapRegime();
  const reloadQueue = new ReloadQueue({
    opts,
    log,
    lifecycle,
    director,
    endpoints,
    reloads,
    config: () => config,
    adopt: (next) => {
      config = next;
      logger.reconfigure({ supervised: config.globals.supervised, logfile: config.globals.logfile });
      alerter.setEmailAlertFrom(config.globals.emailalertfrom);
    },
    keep: (running) => {
      config = running;
    },
    watcher: () => watcher,
    stopped: () => stopped,
    shutdown,
    heap,
  });
  const reload = (text?: string): void => reloadQueue.request(text);
  actions.reload = () => reload();

  if (!opts.foreground && opts.controlSocket) await endpoints.openControlSocket(opts.controlSocket);
  await endpoints.follow(config.globals.statusaddress);
  if (await abandoned([], false)) return finished;

  heap.parsed();
  try {
    await director.start();
  } catch (err) {
    const why = err instanceof StartError ? err.message : `start-up failed: ${(err as Error).stack ?? err}`;
    log(why);
    if (lifecycle.stopRequested) {
      await abandoned([], false);
      return finished;
    }
    report(opts.reportFd, `error: ${why}\n`);
    await endpoints.close();
    if (!opts.foreground) removeOwnPidFile(opts.pidFile);
    await logger.close();
    return 1;
  }
  if (await abandoned([], true)) return finished;
  await syncDaemons.follow(config.globals.syncdaemon);
  if (await abandoned([], true)) return finished;
  const children: string[] = [];
  for (const name of config.globals.execute) {
    children.push(name);
    await runChildren(opts.selfCommand, [name], 'start', log);
    if (await abandoned(children, true)) return finished;
  }

  lifecycle.set('running');
  report(opts.reportFd, 'ready\n');
  watcher = watchConfig({
    path: opts.configPath,
    sum: opts.configSum,
    autoreload: config.globals.autoreload,
    ...(config.globals.callback ? { callback: config.globals.callback } : {}),
    log,
    reload: (text) => reload(text),
  });

  void director
    .run({ afterFirstChecks: () => heap.compact() })
    .then(() => heap.settled(0))
    .catch((err: Error) => log(`checks stopped: ${err.message}`));
  if (lifecycle.reloadAfterStart) reload();
  return finished;
}
