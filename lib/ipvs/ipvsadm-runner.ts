// Running the ipvsadm program: one bounded process per call, no shell (an argument array,
// and stdin for `ipvsadm -R` batches). Finding which ipvsadm to run is locate.ts.
import { runBounded } from '../proc/run-bounded.js';
import { IpvsadmError } from './errors.js';

export interface IpvsadmOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * Runs one ipvsadm process. Rejects only with IpvsadmError `spawn` or `timeout`.
 * With `onStdout`, stdout goes to it as it arrives and the result's stdout is empty; a
 * runner that cannot hand it over (a test's fake) returns it whole, as without.
 */
export interface IpvsadmRunner {
  readonly path: string;
  run(args: readonly string[], input?: string, onStdout?: (chunk: Buffer) => void): Promise<IpvsadmOutput>;
}

export interface RunnerOptions {
  /** Per process; default 60 s (a batch of thousands of lines takes seconds on a slow machine), see defaultIpvsadmTimeoutMs(). */
  readonly timeoutMs?: number;
  /** Extra environment (the fake ipvsadm's state file, for instance). */
  readonly env?: Readonly<Record<string, string>>;
  /** Aborting kills a running ipvsadm. */
  readonly signal?: AbortSignal;
}

/** Beyond this much output ipvsadm is stopped: a runaway, far beyond the listing of any real table. */
const MAX_STDOUT = 512 * 1024 * 1024;

/**
 * LDIRECTORD_IPVSADM_TIMEOUT (seconds) overrides the default: a director whose ipvsadm may
 * hang wants to give up sooner than a minute, and tests inject hangs.
 */
export function defaultIpvsadmTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.LDIRECTORD_IPVSADM_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

export function createIpvsadmRunner(file: string, o: RunnerOptions = {}): IpvsadmRunner {
  const timeout = o.timeoutMs ?? defaultIpvsadmTimeoutMs();
  return {
    path: file,
    async run(args, input, onStdout) {
      // Its own process group, killed whole at the deadline, pipes included: a wrapper's
      // child that inherited stdout must not keep every later IPVS change waiting.
      const r = await runBounded(file, args, {
        timeoutMs: timeout,
        ...(input !== undefined ? { input } : {}),
        stdout: onStdout ?? 'collect',
        stderr: 'collect',
        maxOutputBytes: MAX_STDOUT,
        // ipvsadm's texts are not translated, but strerror() is: keep them greppable.
        env: { LC_ALL: 'C', ...o.env },
        ...(o.signal ? { signal: o.signal } : {}),
      });
      switch (r.end) {
        case 'timeout':
          throw new IpvsadmError('timeout', `ipvsadm did not finish within ${timeout} ms (killed)`, { args });
        case 'aborted':
          throw new IpvsadmError('timeout', 'ipvsadm was cancelled', { args });
        case 'overflow':
          throw new IpvsadmError('failed', `ipvsadm wrote more than ${MAX_STDOUT} bytes (killed)`, { args });
        case 'spawn-error':
          throw new IpvsadmError('spawn', `cannot run ${file}: ${errorCode(r.error)}`, { args });
        case 'exited':
          break;
      }
      if (r.pipesHeld) {
        // What it printed may be incomplete: a process it left behind was still writing.
        throw new IpvsadmError('timeout', `ipvsadm exited, but a process it started kept its output open (killed)`, { args });
      }
      if (r.exitCode === null) {
        throw new IpvsadmError('failed', `ipvsadm was killed by ${r.signal ?? 'a signal'}`, { args, stderr: r.stderr });
      }
      return { stdout: decodeAscii(r.stdout), stderr: r.stderr, exitCode: r.exitCode };
    },
  };
}

function errorCode(err: Error | undefined): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? err?.message ?? 'unknown error';
}

/**
 * The chunks as one string. ipvsadm prints ASCII (LC_ALL=C above: addresses, numbers,
 * names), and decoding as ascii is a plain copy where utf8 or latin1 decode byte by byte.
 * Each chunk is decoded on its own and the strings joined: no buffer the size of a whole
 * read (~150 bytes per real) is allocated outside V8's heap, where malloc would keep it.
 */
function decodeAscii(chunks: readonly Buffer[]): string {
  return chunks.length === 1 ? chunks[0]!.toString('ascii') : chunks.map((c) => c.toString('ascii')).join('');
}

/** `/sbin/ipvsadm -a -t 10.0.0.1:80 ...`: a command as people would type it (for log lines only). */
export function formatCommandLine(ipvsadmPath: string, args: readonly string[]): string {
  return [ipvsadmPath, ...args].join(' ');
}
