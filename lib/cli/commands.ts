// start / stop / restart / try-restart / reload / force-reload / status against
// the pid file, with the original's messages, streams and exit codes (spec §1.3).
import { EXIT, type Command } from './texts.js';
import { controlSocketPath, pidFilePath, readPidState } from '../app/pidfile.js';
import { askDaemon } from '../status/control-client.js';
import { followHolder, probeHolder } from '../daemon/instance-lock.js';
import { formatDocument, staleDocument, stoppedDocument, unreachableDocument, type StatusDocument } from '../status/document.js';

export interface CommandContext {
  readonly command: Command;
  /** The resolved config path, as messages print it. */
  readonly configPath: string;
  readonly cfgName: string;
  /** Arguments of the daemon's own command line, `[<cfg>,] start`, so that it reads `<bin> <cfg> start`. */
  readonly argv: readonly string[];
  readonly debug: boolean;
  /** status --json: stdout carries the status document instead of the "stopped" line. */
  readonly json?: boolean;
  readonly supervised: boolean;
  readonly log: (message: string) => void;
  /** Runs the daemon in this process (foreground: -d or supervised=yes). */
  readonly runForeground: () => Promise<number>;
  /** `ldirectord <child> status` for each execute= instance. */
  readonly statusOfChildren: () => Promise<void>;
}

export const TEXT = {
  running: (config: string, pid: number) => `ldirectord for ${config} is running with pid: ${pid}`,
  stopped: (config: string) => `ldirectord is stopped for ${config}`,
  stale: (pidFile: string, config: string) => `ldirectord stale pid file ${pidFile} for ${config}`,
  exiting: (cmd: string) => `Exiting from ldirectord ${cmd}`,
  startFailed: (why: string) => `ldirectord failed to start: ${why}`,
  notStopped: (config: string, pid: number, seconds: number) =>
    `ldirectord for ${config} is still running with pid: ${pid} after ${seconds} s: not stopped`,
} as const;

/**
 * How long `stop` waits for the daemon to finish its clean stop; LDIRECTORD_STOP_TIMEOUT
 * (seconds) changes it.
 */
function stopWaitMs(): number {
  const s = Number(process.env.LDIRECTORD_STOP_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Set in the environment of the detached daemon so it knows it is the daemon. */
export const DAEMON_ENV = 'LDIRECTORD_TS_DAEMON';

/** The commands for which runCommand() may start the daemon (in this process when in the foreground). */
export const STARTING_COMMANDS: ReadonlySet<string> = new Set(['start', 'restart', 'try-restart']);

export async function runCommand(ctx: CommandContext): Promise<number> {
  const pidFile = pidFilePath(ctx.cfgName);
  const state = readPidState(pidFile);
  const { command } = ctx;

  switch (command) {
    case 'start':
      return start(ctx);
    case 'stop':
      return stop(ctx, stopWaitMs());
    case 'restart':
    case 'try-restart': {
      const running = state.kind === 'running' || (await probeHolder(pidFile)).held;
      if (!running && command === 'try-restart') break;
      // As the original: wait, without a time limit, for the old daemon to go.
      if (running) await stop(ctx, Infinity);
      return start(ctx);
    }
  }
  if (state.kind === 'running') {
    switch (command) {
      case 'reload':
      case 'force-reload':
        process.kill(state.pid, 'SIGHUP');
        ctx.log(TEXT.exiting(command));
        return EXIT.ok;
      case 'status':
        process.stderr.write(`${TEXT.running(ctx.configPath, state.pid)}\n`);
        // JSON reports this instance only: children's status lines would break the document.
        if (ctx.json) process.stdout.write(formatDocument(await liveStatus(ctx, state.pid)));
        else await ctx.statusOfChildren();
        ctx.log(TEXT.running(ctx.configPath, state.pid));
        ctx.log(TEXT.exiting(command));
        return EXIT.ok;
    }
  }
  switch (command) {
    case 'try-restart':
      ctx.log(TEXT.exiting(command));
      return EXIT.ok;
    case 'status': {
      let code: number = EXIT.notRunning;
      if (state.kind === 'stale') {
        process.stderr.write(`${TEXT.stale(pidFile, ctx.configPath)}\n`);
        ctx.log(TEXT.stale(pidFile, ctx.configPath));
        code = EXIT.generic;
      }
      if (!ctx.json) process.stdout.write(`${TEXT.stopped(ctx.configPath)}\n`);
      else if (state.kind === 'stale') process.stdout.write(formatDocument(staleDocument(ctx.configPath, pidFile, state.pid)));
      else process.stdout.write(formatDocument(stoppedDocument(ctx.configPath)));
      return code;
    }
    case 'reload':
    case 'force-reload':
      ctx.log(TEXT.stopped(ctx.configPath));
      return EXIT.generic;
  }
  return EXIT.ok;
}

/** Whether `pid` is still an ldirectord process (a zombie or a reused pid is not). */
function isDaemon(pid: number): boolean {
  try {
    return process.getBuiltinModule('node:fs').readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ldirectord');
  } catch {
    return false;
  }
}

/**
 * stop: TERM to the daemon of this config (the lock's holder, so also one still
 * starting up or whose pid file is gone; else the pid file's process), then wait
 * until that process has ended. LSB (and so systemd's and the OCF agent's reading of
 * it): 0 when the daemon is stopped, also when it was not running; 1 when it could not
 * be stopped, here when it still runs after the wait: the OCF agent then fails its
 * stop, and Pacemaker escalates (fencing) instead of starting the resource elsewhere
 * while this director still holds the virtual services.
 */
async function stop(ctx: CommandContext, waitMs: number): Promise<number> {
  const pidFile = pidFilePath(ctx.cfgName);
  const holder = await probeHolder(pidFile);
  const state = readPidState(pidFile);
  const pid = (holder.held ? holder.pid : undefined) ?? (state.kind === 'running' ? state.pid : undefined);
  if (!holder.held && pid === undefined) {
    ctx.log(TEXT.exiting(ctx.command));
    return EXIT.ok;
  }
  if (pid === undefined) {
    const why = `ldirectord for ${ctx.configPath} holds its lock but does not answer, and no pid file names it: not stopped`;
    process.stderr.write(`${why}\n`);
    ctx.log(why);
    return EXIT.generic;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
  const until = Date.now() + waitMs;
  const lock = followHolder(pidFile, () => undefined);
  let lockGone = false;
  void lock.gone.then(() => (lockGone = true));
  try {
    // The lock goes with the process; the /proc check covers a daemon without one.
    while (Date.now() < until && (isDaemon(pid) || !lockGone)) await sleep(100);
  } finally {
    lock.close();
  }
  if (isDaemon(pid)) {
    const why = TEXT.notStopped(ctx.configPath, pid, Math.round(waitMs / 1000));
    process.stderr.write(`${why}\n`);
    ctx.log(why);
    return EXIT.generic;
  }
  ctx.log(TEXT.exiting(ctx.command));
  return EXIT.ok;
}

/**
 * The running daemon's own document, from its control socket. The exit code
 * stays the original's 0 (the daemon runs); when it cannot answer, the document
 * says why, and so does stderr.
 */
async function liveStatus(ctx: CommandContext, pid: number): Promise<StatusDocument> {
  try {
    const doc = JSON.parse(await askDaemon(controlSocketPath(ctx.cfgName), 'status')) as StatusDocument;
    if (doc.daemon?.state === undefined) throw new Error(`unexpected answer: ${JSON.stringify(doc).slice(0, 200)}`);
    return doc;
  } catch (e) {
    const why = `cannot read the daemon's state: ${(e as Error).message}`;
    process.stderr.write(`${why}\n`);
    return unreachableDocument(ctx.configPath, pid, why);
  }
}

/**
 * start. Only one daemon per config comes up (instance-lock.ts): when another is
 * running, exit 0 as the original; when another `start` is bringing one up, wait for
 * it and exit as that start-up ends: 0 once it runs, 1 when it fails or is stopped
 * during start-up (the same outcome its own `start` reports). A daemon that is
 * stopping is waited for, then a new one is started.
 */
async function start(ctx: CommandContext): Promise<number> {
  const pidFile = pidFilePath(ctx.cfgName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const other = await otherInstance(ctx, pidFile);
    if (other !== undefined) return other;
    if (ctx.debug || ctx.supervised) return ctx.runForeground();
    const r = await spawnDaemon(ctx);
    if (r !== 'locked') return r;
    // Another daemon took the lock first: follow it on the next round.
  }
  return failStart(ctx, 'another instance of this configuration keeps starting and stopping');
}

/** The exit code of `start` when another instance decides it, else undefined (start one). */
async function otherInstance(ctx: CommandContext, pidFile: string): Promise<number | undefined> {
  let last: { pid: number; state: string } | undefined;
  const follow = followHolder(pidFile, (pid, state) => {
    last = { pid, state };
    return state === 'starting' || state === 'stopping' ? undefined : 'stop';
  });
  const holder = await follow.first;
  if (!holder.held) {
    follow.close();
    // A daemon without the lock (another implementation): the original's pid-file rule.
    if (readPidState(pidFile).kind === 'running') {
      ctx.log(TEXT.exiting('start'));
      return EXIT.ok;
    }
    return undefined;
  }
  // Held: wait while it starts or stops (its own commands bound both).
  await follow.gone;
  const seen = last as { pid: number; state: string } | undefined;
  if (seen?.state === 'running' || seen?.state === 'reloading') {
    ctx.log(TEXT.exiting('start'));
    return EXIT.ok;
  }
  if (seen?.state === 'stopping') return undefined;
  if (seen === undefined) return failStart(ctx, 'another instance of this configuration holds its lock but does not answer');
  return failStart(ctx, `the daemon that another start launched (pid ${seen.pid}) did not come up; its log says why`);
}

function failStart(ctx: CommandContext, why: string): number {
  process.stderr.write(`${TEXT.startFailed(why)}\n`);
  ctx.log(TEXT.startFailed(why));
  return EXIT.generic;
}

/**
 * Starts the daemon as a detached copy of this command line (so `pgrep -f
 * "<bin> <cfg> start"` still finds it, as the OCF agent needs) and waits until it
 * reports that it is up, or why it is not: unlike the original, a failed start
 * shows in the exit code.
 */
function spawnDaemon(ctx: CommandContext): Promise<number | 'locked'> {
  return new Promise((resolve) => {
    // Node's own options (the V8 ones on bin/ldirectord's #! line) go to the daemon too:
    // it is the process they were set for.
    const args = [...process.execArgv, process.argv[1]!, ...ctx.argv];
    // Loaded here, not at start: status, stop and reload never spawn (see main.ts).
    const child = process.getBuiltinModule('node:child_process').spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, [DAEMON_ENV]: '3' },
      cwd: process.cwd(),
    });
    let report = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (report += d));
    pipe.on('error', () => undefined);
    const done = (code: number | 'locked') => {
      child.unref();
      (pipe as unknown as { destroy?: () => void }).destroy?.();
      resolve(code);
    };
    pipe.on('end', () => {
      if (report.startsWith('ready')) return done(EXIT.ok);
      if (report.startsWith('locked')) return done('locked');
      const why = report.replace(/^error:\s*/, '').trim() || 'the daemon exited during start-up';
      process.stderr.write(`${TEXT.startFailed(why)}\n`);
      ctx.log(TEXT.startFailed(why));
      done(EXIT.generic);
    });
    child.on('error', (err) => {
      process.stderr.write(`${TEXT.startFailed(err.message)}\n`);
      done(EXIT.generic);
    });
  });
}
