// Running an external program so that nothing it leaves behind can hold the daemon up.
//
// The program runs as the leader of its own process group (a new session), and at the
// deadline the whole group is signalled: SIGTERM, then SIGKILL after a grace period. A
// child's exit is not the end of a run while its pipes are open, and a descendant (the
// child of a wrapper script, a forked sleeper) may inherit them: waiting for the pipes to
// close would then wait for that descendant, for ever if it escaped the group. So at the
// deadline the pipes are destroyed, whoever holds them, and a run whose program exited
// waits only `pipeGraceMs` more for its pipes. No shell: an argument array, always.
import type { ChildProcess } from 'node:child_process';

export type RunEnd =
  /** The program exited (or was killed by someone else) and its pipes closed. */
  | 'exited'
  /** The deadline came first: the group was killed. */
  | 'timeout'
  /** The caller's signal aborted the run: the group was killed. */
  | 'aborted'
  /** The program wrote more than maxOutputBytes: the group was killed. */
  | 'overflow'
  /** The program could not be started (missing, not executable). */
  | 'spawn-error';

export interface BoundedRunOptions {
  /** Deadline for the whole run, pipes included; none when undefined. */
  readonly timeoutMs?: number;
  /** Aborting kills the group, as the deadline does. */
  readonly signal?: AbortSignal;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  readonly input?: string;
  /**
   * stdout is collected, handed over chunk by chunk as it arrives (nothing is kept: a
   * reader that parses as it goes never holds the whole output), or goes to /dev/null
   * (the default). The function must not throw.
   */
  readonly stdout?: 'collect' | 'ignore' | ((chunk: Buffer) => void);
  /** stderr is collected, or goes to /dev/null (the default). */
  readonly stderr?: 'collect' | 'ignore';
  /** Per collected stream; beyond it the group is killed. Default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Added to (overriding) the daemon's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** From SIGTERM to SIGKILL. Default 2 s. */
  readonly killGraceMs?: number;
  /**
   * How long the pipes may stay open after the program exited (a descendant holding
   * them), within the deadline; then the group is killed and the pipes destroyed
   * (`pipesHeld`). Default 1 s.
   */
  readonly pipeGraceMs?: number;
  /**
   * Then only the pipes are destroyed: what holds them is left running (a service the
   * program started, which kept stderr).
   */
  readonly leaveHolders?: boolean;
}

export interface BoundedRunResult {
  readonly end: RunEnd;
  /** The program's exit status, null when a signal ended it or it did not exit (yet). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout as received (empty unless collected, not handed over). */
  readonly stdout: readonly Buffer[];
  readonly stdoutBytes: number;
  /** stderr as text (empty unless collected). */
  readonly stderr: string;
  /** The program exited but a descendant still held its pipes after pipeGraceMs. */
  readonly pipesHeld: boolean;
  /** Why it could not be started (`spawn-error`). */
  readonly error?: Error;
  readonly durationMs: number;
}

/** After SIGKILL, how long to wait for the exit before giving up on it (uninterruptible sleep). */
const AFTER_KILL_MS = 1000;

/** Groups started and not yet known to be finished: killed when the daemon exits. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Detached groups no longer get the terminal's or a supervisor's signals with the
  // daemon: what is still running when the daemon exits goes with it.
  process.once('exit', () => {
    for (const g of liveGroups) signalGroup(g, 'SIGKILL');
  });
}

/** Signals every process of group `pgid`; false when none is left. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

export interface GroupChild {
  readonly child: ChildProcess;
  /**
   * SIGTERM to the group, SIGKILL `graceMs` later unless the group is gone by then, and
   * its pipes destroyed. Resolves when the program has exited (or after SIGKILL went
   * unanswered for a while).
   */
  kill(graceMs?: number): Promise<void>;
}

/**
 * Starts `file` as the leader of a new process group with the given stdio, for callers
 * that drive the child themselves (nodemailer's sendmail); runBounded() is the rest.
 */
export function spawnGroup(
  file: string,
  args: readonly string[],
  stdio: readonly ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe' | 'ignore'],
  env?: Readonly<Record<string, string>>,
): GroupChild {
  // Loaded on first use: the CLI's fast paths load the logger, which imports this module.
  const child = process.getBuiltinModule('node:child_process').spawn(file, [...args], {
    detached: true,
    shell: false,
    stdio: [...stdio],
    windowsHide: true,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const pgid = child.pid;
  const exitedP = new Promise<void>((resolve) => {
    if (pgid === undefined) return resolve();
    child.once('exit', () => resolve());
    child.on('error', () => undefined);
  });
  if (pgid !== undefined) {
    trackGroup(pgid);
    // What the program leaves running on its own (a daemon a fallbackcommand started) is
    // its business once it exited; the id may then be reused.
    child.once('exit', () => liveGroups.delete(pgid));
  }
  let killing: Promise<void> | undefined;
  return {
    child,
    kill(graceMs = 2000) {
      killing ??= (async () => {
        for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
        if (pgid === undefined) return;
        const late = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
        if (signalGroup(pgid, 'SIGTERM')) {
          // The whole group gets the grace, not the leader only: a descendant that ignores
          // SIGTERM is what holds pipes open.
          for (let waited = 0; waited < graceMs && groupAlive(pgid); waited += 50) await late(50);
          signalGroup(pgid, 'SIGKILL');
        }
        // The leader's exit, unless it is stuck where SIGKILL cannot reach it.
        await Promise.race([exitedP, late(AFTER_KILL_MS)]);
      })();
      return killing;
    },
  };
}

/** Whether any process of the group is left (signal 0 checks without signalling). */
function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0 as unknown as NodeJS.Signals);
}

/**
 * Runs a program to its end, or to the deadline, abort or output limit, whichever comes
 * first; never rejects. Resolves once the program has exited and its pipes are closed or
 * destroyed: never later than the deadline plus killGraceMs plus a second.
 */
export function runBounded(file: string, args: readonly string[], o: BoundedRunOptions = {}): Promise<BoundedRunResult> {
  const started = Date.now();
  const maxBytes = o.maxOutputBytes ?? 1024 * 1024;
  const grace = o.killGraceMs ?? 2000;
  const pipeGrace = o.pipeGraceMs ?? 1000;
  return new Promise<BoundedRunResult>((resolve) => {
    if (o.signal?.aborted) {
      resolve({ end: 'aborted', exitCode: null, signal: null, stdout: [], stdoutBytes: 0, stderr: '', pipesHeld: false, durationMs: 0 });
      return;
    }
    let g: GroupChild;
    try {
      g = spawnGroup(
        file,
        args,
        [
          o.input !== undefined ? 'pipe' : 'ignore',
          o.stdout === undefined || o.stdout === 'ignore' ? 'ignore' : 'pipe',
          o.stderr === 'collect' ? 'pipe' : 'ignore',
        ],
        o.env,
      );
    } catch (err) {
      // spawn() throws only for invalid arguments (a NUL byte in one, say).
      resolve({
        end: 'spawn-error',
        exitCode: null,
        signal: null,
        stdout: [],
        stdoutBytes: 0,
        stderr: '',
        pipesHeld: false,
        error: err as Error,
        durationMs: 0,
      });
      return;
    }
    const { child } = g;
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    let end: RunEnd | undefined;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let exited = false;
    let pipesHeld = false;
    let spawnError: Error | undefined;
    let openPipes = (child.stdout ? 1 : 0) + (child.stderr ? 1 : 0);
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const finish = (): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({
        end: end ?? 'exited',
        exitCode,
        signal: exitSignal,
        stdout,
        stdoutBytes,
        stderr: Buffer.concat(stderr).toString('utf8'),
        pipesHeld,
        ...(spawnError ? { error: spawnError } : {}),
        durationMs: Date.now() - started,
      });
    };
    const maybeDone = (): void => {
      if (exited && openPipes === 0) finish();
    };
    /** Ends the run early: kills the group, stops reading, resolves once the program is gone. */
    const stop = (why: RunEnd): void => {
      if (settled || end !== undefined) return;
      end = why;
      openPipes = 0;
      void g.kill(grace).then(() => {
        exited = true;
        finish();
      });
    };
    const onAbort = (): void => stop('aborted');

    child.on('error', (err) => {
      // An error after a successful start (a failed kill) says nothing about the program.
      if (child.pid !== undefined) return;
      spawnError = err;
      end = 'spawn-error';
      finish();
    });
    child.once('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      exited = true;
      if (end !== undefined) return; // being stopped: stop() resolves
      if (openPipes > 0) {
        // A descendant holds the pipes: a moment to drain what the program wrote, then
        // whatever still holds them goes with the group.
        timers.push(
          setTimeout(() => {
            if (settled || end !== undefined || openPipes === 0) return;
            pipesHeld = true;
            if (!o.leaveHolders) return stop('exited');
            end = 'exited';
            for (const p of [child.stdout, child.stderr]) p?.destroy();
            finish();
          }, pipeGrace),
        );
      }
      maybeDone();
    });
    const collect = (stream: NodeJS.ReadableStream | null, take: (chunk: Buffer) => void, count: (n: number) => number): void => {
      if (!stream) return;
      stream.on('data', (chunk: Buffer) => {
        if (end !== undefined) return;
        if (count(chunk.length) > maxBytes) stop('overflow');
        else take(chunk);
      });
      // Destroyed streams end with 'close' only.
      stream.once('close', () => {
        if (end !== undefined) return;
        openPipes--;
        maybeDone();
      });
      stream.on('error', () => undefined);
    };
    const handOver = o.stdout;
    collect(child.stdout, typeof handOver === 'function' ? handOver : (c) => stdout.push(c), (n) => (stdoutBytes += n));
    collect(
      child.stderr,
      (c) => stderr.push(c),
      (n) => (stderrBytes += n),
    );
    if (child.stdin) {
      // EPIPE when the program does not read it all: its exit status tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(o.input);
    }
    if (o.timeoutMs !== undefined) timers.push(setTimeout(() => stop('timeout'), o.timeoutMs));
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What ended a run that did not exit 0, in a few words for a log line. */
export function describeEnd(r: BoundedRunResult, timeoutMs?: number): string {
  switch (r.end) {
    case 'timeout':
      return `did not finish within ${timeoutMs ?? '?'} ms (process group killed)`;
    case 'aborted':
      return 'cancelled (process group killed)';
    case 'overflow':
      return 'wrote too much output (process group killed)';
    case 'spawn-error':
      return `cannot run: ${r.error?.message ?? 'unknown error'}`;
    case 'exited':
      break;
  }
  if (r.exitCode !== null) return `exit status ${r.exitCode}`;
  return `killed by ${r.signal ?? 'a signal'}`;
}
