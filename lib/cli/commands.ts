// start / stop / restart / try-restart / reload / force-reload / status against
// the pid file, with the original's messages, streams and exit codes (spec §1.3).
import { EXIT, type Command } from './texts.js';
import { controlSocketPath, pidFilePath, readPidState } from './pidfile.js';
import { askDaemon } from '../status/control-client.js';
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
} as const;

/** How long `stop` waits for the daemon to finish its clean stop. */
const STOP_WAIT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Set in the environment of the detached daemon so it knows it is the daemon. */
export const DAEMON_ENV = 'LDIRECTORD_TS_DAEMON';

export async function runCommand(ctx: CommandContext): Promise<number> {
  const pidFile = pidFilePath(ctx.cfgName);
  const state = readPidState(pidFile);
  const { command } = ctx;

  if (state.kind === 'running') {
    switch (command) {
      case 'start':
        ctx.log(TEXT.exiting(command));
        return EXIT.ok;
      case 'stop': {
        process.kill(state.pid, 'SIGTERM');
        // Unlike the original, wait (bounded) until the daemon has cleaned up and
        // gone, so that a stop really is one for the OCF agent, systemd and init.
        const until = Date.now() + STOP_WAIT_MS;
        while (readPidState(pidFile).kind === 'running' && Date.now() < until) await sleep(100);
        ctx.log(TEXT.exiting(command));
        return EXIT.ok;
      }
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
      case 'restart':
      case 'try-restart':
        process.kill(state.pid, 'SIGTERM');
        // As the original: wait, without a time limit, for the old daemon to go.
        while (readPidState(pidFile).kind === 'running') await sleep(200);
        return start(ctx);
    }
  }
  switch (command) {
    case 'start':
    case 'restart':
      return start(ctx);
    case 'stop':
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

function start(ctx: CommandContext): Promise<number> {
  if (ctx.debug || ctx.supervised) return ctx.runForeground();
  return spawnDaemon(ctx);
}

/**
 * Starts the daemon as a detached copy of this command line (so `pgrep -f
 * "<bin> <cfg> start"` still finds it, as the OCF agent needs) and waits until it
 * reports that it is up, or why it is not: unlike the original, a failed start
 * shows in the exit code.
 */
function spawnDaemon(ctx: CommandContext): Promise<number> {
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
    const done = (code: number) => {
      child.unref();
      (pipe as unknown as { destroy?: () => void }).destroy?.();
      resolve(code);
    };
    pipe.on('end', () => {
      if (report.startsWith('ready')) return done(EXIT.ok);
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
