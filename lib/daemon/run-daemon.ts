// The daemon process: logging, pid file, signals, reloads, execute= children,
// and the start-up report to the `start` command that launched it.
import { createHash } from 'node:crypto';
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import type { Config, VirtualService } from '../config/model.js';
import { selectChecker, buildTarget } from '../../checks/index.js';
import type { CheckResult, CheckTarget } from '../../checks/types.js';
import { Director, StartError } from './director.js';
import { perPair } from './real-id.js';
import { Logger } from './log.js';
import { EmailAlerter } from './alerts.js';
import { MonitorFiles, monitorWriteError } from './monitorfile.js';
import { createMaintenanceCheck } from './maintenance.js';
import { createIpvsadmRunner } from '../ipvs/ipvsadm.js';
import { removeOwnPidFile, writePidFile } from '../cli/pidfile.js';
import { VERSION_LINE, configDiagnostic } from '../cli/texts.js';
import { runFallbackCommand } from './fallback-command.js';
import { watchConfig, type ConfigWatch } from './config-watch.js';
import type { StatusAddress } from '../config/model.js';
import { ControlSocket } from '../status/control-socket.js';
import { StatusListener } from '../status/http-listener.js';
import { buildStatus } from '../status/snapshot.js';
import { formatDocument, type StatusDocument } from '../status/document.js';
import type { DaemonMetrics } from '../status/metrics.js';

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
  /** Re-parses the config file for a reload. */
  readonly reparse: () => Promise<{ config?: Config; diagnostics: readonly { severity: 'error' | 'warning'; line: number; message: string }[] }>;
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

function runChildren(self: readonly string[], names: readonly string[], cmd: string, log: (m: string) => void): void {
  for (const name of names) {
    const r = spawnSync(self[0]!, [...self.slice(1), name, cmd], { stdio: 'ignore', timeout: 120_000 });
    if (r.status !== 0) log(`system(ldirectord ${name} ${cmd}) failed: exit status ${r.status ?? r.signal}`);
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
  const loadMetrics = (): Promise<DaemonMetrics> =>
    (metricsLoading ??= import('../status/metrics.js').then((m) => (metrics = new m.DaemonMetrics(status, reloads))));
  const listener: StatusListener = new StatusListener(
    {
      status: () => formatDocument(status()),
      metrics: async () => {
        const m = await loadMetrics();
        return { contentType: m.contentType, body: await m.text() };
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
      checked: (entry, result) => metrics?.checked(entry, result),
      converged: (result) => metrics?.converged(result),
    },
  });
  if (!opts.foreground && opts.controlSocket) {
    control = await ControlSocket.open(
      opts.controlSocket,
      (request) => (request === 'status' ? formatDocument(status()) : `${JSON.stringify({ error: `unknown request: ${request}` })}\n`),
      log,
    );
  }
  await followStatusAddress(config.globals.statusaddress);

  let watcher: ConfigWatch | undefined;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let stopping = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    watcher?.close();
    runChildren(opts.selfCommand, config.globals.execute, 'stop', log);
    let code = 0;
    try {
      await director.stop();
    } catch (err) {
      log(`error while stopping: ${(err as Error).message}`);
      code = 1;
    }
    log(`Linux Director Daemon terminated on signal: ${signal.replace(/^SIG/, '')}`);
    await closeStatus();
    if (!opts.foreground) removeOwnPidFile(opts.pidFile);
    await alerter.idle();
    await monitor.close();
    await logger.close();
    finish(code);
  };

  let reloading: Promise<void> = Promise.resolve();
  let reloadQueued = false;
  /** Reloads queue behind each other; signals that arrive while one waits merge into it. */
  const reload = (why?: string): void => {
    if (why) log(why);
    if (reloadQueued) return;
    reloadQueued = true;
    reloading = reloading.then(async () => {
      reloadQueued = false;
      if (stopping) return;
      const parsed = await opts.reparse();
      for (const d of parsed.diagnostics) log(configDiagnostic(d.severity, process.pid, opts.configPath, d.line, d.message));
      if (!parsed.config) {
        log('Configuration has errors: the running configuration stays in force');
        reloads.failed++;
        reloads.lastAt = Date.now();
        metrics?.reloaded(false);
        return;
      }
      const old = config;
      config = parsed.config;
      logger.reconfigure({ supervised: config.globals.supervised, logfile: config.globals.logfile });
      alerter.setEmailAlertFrom(config.globals.emailalertfrom);
      const before = new Set(old.globals.execute);
      const after = new Set(config.globals.execute);
      runChildren(opts.selfCommand, [...before].filter((n) => !after.has(n)), 'stop', log);
      for (const n of [...after].filter((x) => before.has(x))) {
        const r = spawnSync(opts.selfCommand[0]!, [...opts.selfCommand.slice(1), n, 'reload'], { stdio: 'ignore' });
        if (r.status !== 0) runChildren(opts.selfCommand, [n], 'start', log);
      }
      runChildren(opts.selfCommand, [...after].filter((n) => !before.has(n)), 'start', log);
      await director.reload(config);
      reloads.ok++;
      reloads.lastAt = Date.now();
      metrics?.reloaded(true);
      await followStatusAddress(config.globals.statusaddress);
      watcher?.setAutoreload(config.globals.autoreload, config.globals.callback);
    });
  };

  for (const sig of TERMINATING) process.on(sig, () => void shutdown(sig));
  process.on('SIGHUP', () => reload('Reloading Linux Director Daemon config on signal'));
  process.on('SIGUSR1', () => {
    for (const line of director.statusLines()) log(line);
  });
  process.on('SIGUSR2', () => undefined);
  process.on('SIGPIPE', () => undefined);

  try {
    await director.start();
  } catch (err) {
    const why = err instanceof StartError ? err.message : `start-up failed: ${(err as Error).stack ?? err}`;
    log(why);
    report(opts.reportFd, `error: ${why}\n`);
    await closeStatus();
    if (!opts.foreground) removeOwnPidFile(opts.pidFile);
    await logger.close();
    return 1;
  }
  runChildren(opts.selfCommand, config.globals.execute, 'start', log);
  report(opts.reportFd, 'ready\n');

  const md5 = (): string | undefined => {
    try {
      return createHash('md5').update(readFileSync(opts.configPath)).digest('hex');
    } catch {
      return undefined;
    }
  };
  watcher = watchConfig({
    path: opts.configPath,
    md5,
    autoreload: config.globals.autoreload,
    ...(config.globals.callback ? { callback: config.globals.callback } : {}),
    log,
    reload: () => reload(),
  });

  void director.run().catch((err: Error) => log(`checks stopped: ${err.message}`));
  return finished;
}
