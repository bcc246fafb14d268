// The daemon process: logging, pid file, signals, reloads, execute= children,
// and the start-up report to the `start` command that launched it.
import { createHash } from 'node:crypto';
import { closeSync, writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Config, VirtualService } from '../config/model.js';
import { selectChecker } from '../../checks/registry.js';
import { buildTarget } from '../../checks/target.js';
import type { CheckResult, CheckTarget } from '../../checks/types.js';
import { Director, StartError } from '../daemon/director.js';
import { perPair } from '../daemon/real-id.js';
import { Logger } from '../log/log.js';
import { EmailAlerter } from '../daemon/alerts.js';
import { MonitorFiles, monitorWriteError } from '../daemon/monitorfile.js';
import { createMaintenanceCheck } from '../daemon/maintenance.js';
import { createIpvsadmRunner } from '../ipvs/ipvsadm-runner.js';
import { removeOwnPidFile, writePidFile } from './pidfile.js';
import { VERSION_LINE } from '../version.js';
import { configDiagnostic } from '../config/messages.js';
import { runFallbackCommand } from '../daemon/fallback-command.js';
import { watchConfig, type ConfigWatch } from '../daemon/config-watch.js';
import { readConfigTextNow } from '../daemon/config-read.js';
import { runChildCommand, runChildren } from '../daemon/execute-children.js';
import { InstanceLock } from '../daemon/instance-lock.js';
import { Lifecycle } from '../daemon/lifecycle.js';
import type { StatusAddress } from '../config/model.js';
import { ControlSocket } from '../status/control-socket.js';
import { StatusListener } from '../status/http-listener.js';
import { buildStatus } from '../status/snapshot.js';
import { formatDocument, type StatusDocument } from '../status/document.js';
import type { DaemonMetrics } from '../status/metrics.js';
import { StateHistory } from '../status/state-history.js';
import { historyFeed } from '../status/history-feed.js';
import { pageAnswer, refreshSeconds, secretsOf } from '../status/status-page.js';

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
  readonly parse: (text: string) => Promise<{ config?: Config; diagnostics: readonly { severity: 'error' | 'warning'; line: number; message: string }[] }>;
  /** The config file's text as `config` was parsed from (autoreload compares with it). */
  readonly configText?: string;
  /** argv[0..1] to run `ldirectord <child> <cmd>` for execute= instances. */
  readonly selfCommand: readonly string[];
  /** The control socket `status --json` asks (next to the pid file); not in the foreground. */
  readonly controlSocket?: string;
}

const TERMINATING = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

type Real = VirtualService['reals'][number];

/** Targets depend only on the virtual and real: built once, not on every probe. */
const targetOf: (v: VirtualService, r: Real) => CheckTarget = perPair(buildTarget);

function probe(v: VirtualService, r: Real, mode: 'negotiate' | 'connect', signal: AbortSignal): Promise<CheckResult> {
  const checker = selectChecker(v, v.checktype.kind === 'combined' ? mode : undefined);
  if (!checker) return Promise.resolve({ ok: false, message: `no checker for ${v.service}`, durationMs: 0 });
  return checker.probe(targetOf(v, r), signal);
}

function timeoutSeconds(v: VirtualService, mode: 'negotiate' | 'connect'): number {
  const checker = selectChecker(v, v.checktype.kind === 'combined' ? mode : undefined);
  return checker ? checker.timeoutSeconds(v) : v.checktimeout;
}

function report(fd: number | undefined, text: string): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, text);
    closeSync(fd);
  } catch {
    // the launcher is gone: nobody to tell
  }
}

/**
 * The old generation may grow to twice what the last full GC left live, instead of by
 * V8's own factor, which reaches 4 on a host with gigabytes of memory. At 10,000 reals
 * the daemon keeps 30-50 MB live, but checks promote short-lived objects into the old
 * generation at 15-25 MB/s, so with V8's factor the heap filled to 170-220 MB of mostly
 * garbage before each full GC: peak RSS 230-280 MB, against a target of 200. Measured at
 * 10,000 reals (bench/RESULTS.md, scale), factor ~4 (V8's) / 2 / 1.5: peak RSS 231 /
 * 161-168 / 145-154 MB, CPU 0.27 / 0.24-0.29 / 0.32-0.37 of a core (the full GCs' marking
 * runs on V8's helper threads, which count too): 2 keeps both under their targets.
 * V8 reads the flag whenever it sets the next limit, so setting it here, at run time, is
 * enough, and it applies however node was started (the #! line holds only what must be
 * known when the heap is set up).
 */
export const HEAP_GROWING_PERCENT = 100;

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
  let shutdown: () => Promise<void> = async () => undefined;
  const startReload: { fn: (text?: string) => void } = { fn: () => undefined };
  for (const sig of TERMINATING) {
    process.on(sig, () => {
      const action = lifecycle.terminate(sig);
      if (action === 'stop') void shutdown();
      else if (action === 'after-step') log(`Signal ${sig.replace(/^SIG/, '')} while ${lifecycle.state}: stopping once the current step is done`);
    });
  }
  process.on('SIGHUP', () => {
    const action = lifecycle.hangup();
    if (action === 'ignore') return log('Reload on signal ignored: the daemon is stopping');
    log('Reloading Linux Director Daemon config on signal');
    if (action === 'reload') startReload.fn();
  });
  let statusLines: () => string[] = () => ['Status: starting'];
  process.on('SIGUSR1', () => {
    for (const line of statusLines()) log(line);
  });
  process.on('SIGUSR2', () => undefined);
  process.on('SIGPIPE', () => undefined);

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

  let director: Director;
  const startedAt = Date.now();
  const reloads: { ok: number; failed: number; lastAt?: number } = { ok: 0, failed: 0 };
  // prom-client is loaded only once a statusaddress asks for metrics; until then
  // nothing is counted (a config without it costs nothing).
  let metrics: DaemonMetrics | undefined;
  let metricsLoading: Promise<DaemonMetrics> | undefined;
  const status = (): StatusDocument =>
    buildStatus(director, {
      config: opts.configPath,
      pid: process.pid,
      startedAt,
      reloads,
      ...(listener.address !== undefined ? { statusAddress: listener.address } : {}),
    });
  const history = new StateHistory();
  const recordHistory = historyFeed(history, () => director);
  const loadMetrics = (): Promise<DaemonMetrics> =>
    (metricsLoading ??= import('../status/metrics.js').then((m) => (metrics = new m.DaemonMetrics(status, reloads))));
  const listener: StatusListener = new StatusListener(
    {
      status: () => formatDocument(status()),
      metrics: async () => {
        const m = await loadMetrics();
        return { contentType: m.contentType, body: await m.text() };
      },
      page: (query, acceptEncoding) => {
        const doc = status();
        return pageAnswer({ doc, history, secrets: secretsOf(director.currentConfig), refreshSeconds: refreshSeconds(query, doc) }, acceptEncoding);
      },
    },
    log,
  );
  const followStatusAddress = async (address: StatusAddress | undefined): Promise<void> => {
    if (address) await loadMetrics();
    await listener.bind(address);
  };
  let control: ControlSocket | undefined;
  const closeStatus = async (): Promise<void> => {
    await listener.close();
    await control?.close();
  };
  const alerter = new EmailAlerter({
    log,
    status: () => director.daemonStatus,
    ...(config.globals.emailalertfrom !== undefined ? { emailalertfrom: config.globals.emailalertfrom } : {}),
  });
  const monitor = new MonitorFiles({ onError: (path, err) => log(monitorWriteError(path, err)) });
  // Follows maintenancedir across reloads.
  const maintenanceChecks = new Map<string, ReturnType<typeof createMaintenanceCheck>>();
  const maintenance = async (r: VirtualService['reals'][number]): Promise<boolean> => {
    const dir = config.globals.maintenancedir;
    if (!dir) return false;
    let check = maintenanceChecks.get(dir);
    if (!check) maintenanceChecks.set(dir, (check = createMaintenanceCheck(dir)));
    return check(r);
  };
  director = new Director(config, {
    log: { log, debug: (l, m) => logger.debug(l, m) },
    ipvsadm: createIpvsadmRunner(opts.ipvsadmPath),
    alerts: alerter,
    monitor,
    probe,
    timeoutSeconds,
    inMaintenance: maintenance,
    fallbackCommand: (cmd, args) => runFallbackCommand(cmd, args, log),
    observer: {
      checked: (entry, result) => {
        metrics?.checked(entry, result);
        recordHistory(entry, result);
      },
      converged: (result) => metrics?.converged(result),
    },
  });
  statusLines = () => director.statusLines();

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
    log(`Linux Director Daemon terminated on signal: ${signal}`);
    await closeStatus();
    if (!opts.foreground) removeOwnPidFile(opts.pidFile);
    // Only now: `start` returns when the table holds nothing of this start-up.
    if (startReport) report(opts.reportFd, startReport);
    await alerter.idle();
    await monitor.close();
    await logger.close();
    finish(code);
  };
  shutdown = () => stopDaemon(config.globals.execute, true);

  /** A start-up step is done: true when a stop came meanwhile and start-up must end. */
  const abandoned = async (children: readonly string[], purge: boolean): Promise<boolean> => {
    if (!lifecycle.stopRequested) return false;
    const signal = lifecycle.stopSignal!.replace(/^SIG/, '');
    log(`Start-up abandoned on signal ${signal}`);
    await stopDaemon(children, purge, `error: stopped by signal ${signal} during start-up\n`);
    return true;
  };

  /** One reload; between its steps, a stop that came meanwhile ends it. */
  const reloadOnce = async (given: string | undefined): Promise<void> => {
    const failed = (): void => {
      reloads.failed++;
      reloads.lastAt = Date.now();
      metrics?.reloaded(false);
    };
    let text = given;
    if (text === undefined) {
      const file = readConfigTextNow(opts.configPath);
      if (!file.ok) {
        log(`${file.why}: the running configuration stays in force`);
        return failed();
      }
      text = file.text;
    }
    const parsed = await opts.parse(text);
    for (const d of parsed.diagnostics) log(configDiagnostic(d.severity, process.pid, opts.configPath, d.line, d.message));
    if (!parsed.config) {
      log('Configuration has errors: the running configuration stays in force');
      return failed();
    }
    if (lifecycle.stopRequested) return;
    const old = config;
    config = parsed.config;
    logger.reconfigure({ supervised: config.globals.supervised, logfile: config.globals.logfile });
    alerter.setEmailAlertFrom(config.globals.emailalertfrom);
    const before = new Set(old.globals.execute);
    const after = new Set(config.globals.execute);
    await runChildren(opts.selfCommand, [...before].filter((n) => !after.has(n)), 'stop', log);
    for (const n of [...after].filter((x) => before.has(x))) {
      if (lifecycle.stopRequested) break;
      const r = await runChildCommand(opts.selfCommand, n, 'reload');
      if (!r.ok) await runChildren(opts.selfCommand, [n], 'start', log);
    }
    if (!lifecycle.stopRequested) await runChildren(opts.selfCommand, [...after].filter((n) => !before.has(n)), 'start', log);
    // The table is left as it was when a stop came: the stop purges it next.
    if (lifecycle.stopRequested) return;
    await director.reload(config);
    reloads.ok++;
    reloads.lastAt = Date.now();
    metrics?.reloaded(true);
    await followStatusAddress(config.globals.statusaddress);
    watcher?.setAutoreload(config.globals.autoreload, config.globals.callback);
  };

  let reloading: Promise<void> = Promise.resolve();
  let queued: { text: string | undefined } | undefined;
  /**
   * Reloads queue behind each other; requests that arrive while one waits merge into
   * it. `text`: the settled file that autoreload read; a SIGHUP reads the file itself
   * (its sender says the file is complete), and a merged SIGHUP wins.
   */
  const reload = (text?: string): void => {
    if (queued) {
      if (text === undefined || queued.text === undefined) queued.text = undefined;
      else queued.text = text;
      return;
    }
    queued = { text };
    reloading = reloading.then(async () => {
      const req = queued!;
      queued = undefined;
      if (lifecycle.stopRequested || stopped) return;
      lifecycle.set('reloading');
      try {
        await reloadOnce(req.text);
      } catch (err) {
        log(`reload failed: ${(err as Error).message}`);
        reloads.failed++;
        reloads.lastAt = Date.now();
        metrics?.reloaded(false);
      }
      if (lifecycle.stopRequested) await shutdown();
      else lifecycle.set('running');
    });
  };
  startReload.fn = reload;

  if (!opts.foreground && opts.controlSocket) {
    control = await ControlSocket.open(
      opts.controlSocket,
      (request) => (request === 'status' ? formatDocument(status()) : `${JSON.stringify({ error: `unknown request: ${request}` })}\n`),
      log,
    );
  }
  await followStatusAddress(config.globals.statusaddress);
  if (await abandoned([], false)) return finished;

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
    await closeStatus();
    if (!opts.foreground) removeOwnPidFile(opts.pidFile);
    await logger.close();
    return 1;
  }
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
    sum: opts.configText !== undefined ? createHash('md5').update(opts.configText).digest('hex') : undefined,
    autoreload: config.globals.autoreload,
    ...(config.globals.callback ? { callback: config.globals.callback } : {}),
    log,
    reload: (text) => reload(text),
  });

  void director.run().catch((err: Error) => log(`checks stopped: ${err.message}`));
  if (lifecycle.reloadAfterStart) reload();
  return finished;
}
