// Running ipvsadm, and converging the kernel table on a desired state with it:
// read, diff, apply one `ipvsadm -R` batch, re-read and verify; if the table is not yet
// right, run what is left one command at a time to learn which command fails and why
// (ipvsadm's own stderr), and verify again. No shell anywhere: argument arrays and stdin.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { commandArgs, commandTarget, restoreLine, type IpvsCommand } from './commands.js';
import { diffTable } from './diff.js';
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import { LISTING_COMMANDS, parseListings, readTable } from './read-table.js';
import { serviceKey, type IpvsTable } from './table.js';

// ---------------------------------------------------------------- locating ----

/** Where the original looks for ipvsadm, in order (spec §1.5). */
export const IPVSADM_PATHS: readonly string[] = ['/sbin/ipvsadm', '/usr/sbin/ipvsadm'];

export interface LocateOptions {
  /** Debug mode (-d): `./ipvsadm` in `cwd` wins if that file exists (spec §1.5). */
  readonly debug?: boolean;
  readonly cwd?: string;
  /** Injectable for tests. */
  readonly isFile?: (p: string) => boolean;
  readonly isExecutable?: (p: string) => boolean;
}

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}
function isExecutable(p: string): boolean {
  try { accessSync(p, fsConstants.X_OK); return isFile(p); } catch { return false; }
}

/** The ipvsadm to run, or undefined when there is none (the original dies "Can not find ipvsadm"). */
export function locateIpvsadm(o: LocateOptions = {}): string | undefined {
  const file = o.isFile ?? isFile;
  const exec = o.isExecutable ?? isExecutable;
  if (o.debug) {
    const local = path.join(o.cwd ?? process.cwd(), 'ipvsadm');
    if (file(local)) return local;
  }
  return IPVSADM_PATHS.find((p) => exec(p));
}

// ----------------------------------------------------------------- running ----

export interface IpvsadmOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs one ipvsadm process. Rejects only with IpvsadmError `spawn` or `timeout`. */
export interface IpvsadmRunner {
  readonly path: string;
  run(args: readonly string[], input?: string): Promise<IpvsadmOutput>;
}

export interface RunnerOptions {
  /** Per process; default 60 s (a 10,000-line batch takes seconds in the test VM). */
  readonly timeoutMs?: number;
  /** Extra environment (the fake ipvsadm's state file, for instance). */
  readonly env?: Readonly<Record<string, string>>;
  /** Aborting kills a running ipvsadm. */
  readonly signal?: AbortSignal;
}

export function createIpvsadmRunner(file: string, o: RunnerOptions = {}): IpvsadmRunner {
  const timeout = o.timeoutMs ?? 60_000;
  return {
    path: file,
    async run(args, input) {
      const r = await execa(file, [...args], {
        reject: false,
        timeout,
        ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
        stripFinalNewline: false,
        maxBuffer: 512 * 1024 * 1024,
        // ipvsadm's texts are not translated, but strerror() is: keep them greppable.
        env: { LC_ALL: 'C', ...o.env },
        ...(o.signal ? { cancelSignal: o.signal } : {}),
      });
      if (r.timedOut || r.isCanceled) {
        throw new IpvsadmError('timeout', r.timedOut ? `ipvsadm did not finish within ${timeout} ms` : 'ipvsadm was cancelled', { args });
      }
      if (r.exitCode === undefined) {
        if (r.signal) {
          throw new IpvsadmError('failed', `ipvsadm was killed by ${r.signal}`, { args, stderr: String(r.stderr ?? '') });
        }
        throw new IpvsadmError('spawn', `cannot run ${file}: ${String(r.code ?? r.shortMessage ?? 'unknown error')}`, { args });
      }
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
    },
  };
}

/** `/sbin/ipvsadm -a -t 10.0.0.1:80 ...`: a command as people would type it (for log lines only). */
export function formatCommandLine(ipvsadmPath: string, args: readonly string[]): string {
  return [ipvsadmPath, ...args].join(' ');
}

// -------------------------------------------------------------- converging ----

/** The desired table, or a function of the table just read (for reals whose state is not known yet). */
export type DesiredState = IpvsTable | ((current: IpvsTable) => IpvsTable);

export interface ConvergeOptions {
  /**
   * Passes at most: the batch, then per-command passes. Default 3. Passes stop early
   * when the table is right, or when a per-command pass changed nothing.
   */
  readonly maxPasses?: number;
  /** A table the caller has just read: saves the first read. */
  readonly current?: IpvsTable;
}

export interface CommandFailure {
  readonly command: IpvsCommand;
  readonly args: readonly string[];
  readonly exitCode: number;
  /** ipvsadm's own message, e.g. "Scheduler or persistence engine not found". */
  readonly stderr: string;
  readonly pass: number;
}

export interface ConvergeResult {
  /** The managed services now equal the desired state (verified by reading the table back). */
  readonly ok: boolean;
  /** Set when ipvsadm could not be run or the table could not be read; nothing is known then. */
  readonly error?: IpvsadmError;
  /** The table before any change (undefined if it could not be read). */
  readonly before?: IpvsTable;
  /** The table as last read back. */
  readonly after?: IpvsTable;
  /** The commands the first diff asked for, in the order they were sent. */
  readonly planned: readonly IpvsCommand[];
  /** The planned commands whose effect the final read-back shows. */
  readonly applied: readonly IpvsCommand[];
  /** What a diff of the final table still asks for; empty when ok. */
  readonly remaining: readonly IpvsCommand[];
  /** Commands that ipvsadm refused when run one by one (per-command passes). */
  readonly failures: readonly CommandFailure[];
  /** Destination commands not run because their service could not be added in that pass. */
  readonly skipped: readonly IpvsCommand[];
  /** ipvsadm's stderr for the batch (which line failed is not known from it). */
  readonly batchStderr: string;
  readonly passes: number;
  /** ipvsadm processes started. */
  readonly runs: number;
}

const resolveDesired = (d: DesiredState, current: IpvsTable): IpvsTable => (typeof d === 'function' ? d(current) : d);
const signature = (cmds: readonly IpvsCommand[]): string => cmds.map((c) => commandArgs(c).join(' ')).join('\n');

/**
 * Makes the managed services of the kernel table equal `desired`. Never throws for
 * ipvsadm trouble: that is reported in the result (`error`, `failures`, `remaining`).
 */
export async function converge(
  runner: IpvsadmRunner, desired: DesiredState, managed: Iterable<string>, o: ConvergeOptions = {},
): Promise<ConvergeResult> {
  const managedKeys = [...managed];
  const maxPasses = Math.max(1, o.maxPasses ?? 3);
  let runs = 0;
  const counted: IpvsadmRunner = { path: runner.path, run: (a, i) => { runs++; return runner.run(a, i); } };
  let before: IpvsTable | undefined;
  let after: IpvsTable | undefined;
  let planned: IpvsCommand[] = [];
  let remaining: IpvsCommand[] = [];
  const failures: CommandFailure[] = [];
  const skipped: IpvsCommand[] = [];
  let batchStderr = '';
  let passes = 0;
  const result = (error?: IpvsadmError): ConvergeResult => {
    const open = new Set(remaining.map(commandTarget));
    return {
      ok: error === undefined && remaining.length === 0,
      ...(error ? { error } : {}),
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      planned,
      applied: error ? [] : planned.filter((c) => !open.has(commandTarget(c))),
      remaining,
      failures, skipped, batchStderr, passes, runs,
    };
  };
  try {
    before = o.current ?? await readTable(counted);
    planned = diffTable(before, resolveDesired(desired, before), managedKeys);
    remaining = planned;
    after = before;
    if (planned.length === 0) return result();

    // Pass 1: everything in one ipvsadm -R, with the verifying listings at the end.
    // ipvsadm -R goes on after a kernel error (its exit status is that of the LAST line
    // only) but stops at the first line it cannot parse; the read-back tells what happened.
    const lines = planned.map(restoreLine);
    if (lines.every((l): l is string => l !== undefined)) {
      passes = 1;
      const out = await counted.run(['-R'], lines.join('\n') + '\n' + LISTING_COMMANDS);
      batchStderr = out.stderr.trim();
      const failure = out.exitCode !== 0 ? ipvsadmFailure(['-R'], out.exitCode, out.stderr) : undefined;
      if (failure?.kind === 'no-ipvs') return result(failure);
      let readBack: IpvsTable | undefined;
      try { readBack = parseListings(out.stdout); } catch { readBack = undefined; }
      after = readBack ?? await readTable(counted);
      remaining = diffTable(after, resolveDesired(desired, after), managedKeys);
    }

    // Further passes: one ipvsadm per command, so each refusal comes with its own message.
    // A command ipvsadm refused as malformed (exit status 2) would be refused again: it is
    // not retried, nor are the destinations of a service it failed to add.
    const malformed = new Set<string>();
    let failedServices = new Set<string>();
    /** A destination command of a service that could not be added in this pass: not run, but noted. */
    const skip = (c: IpvsCommand): boolean => {
      const isDestination = c.op === 'add-destination' || c.op === 'edit-destination' || c.op === 'delete-destination';
      if (!isDestination || !failedServices.has(serviceKey(c.service))) return false;
      const key = commandArgs(c).join(' ');
      if (!skipped.some((k) => commandArgs(k).join(' ') === key)) skipped.push(c);
      return true;
    };
    while (remaining.length > 0 && passes < maxPasses) {
      const tried = signature(remaining);
      failedServices = new Set<string>();
      for (const c of remaining) {
        if (c.op === 'add-service' && malformed.has(commandArgs(c).join(' '))) failedServices.add(serviceKey(c.service));
      }
      const runnable = remaining.filter((c) => !malformed.has(commandArgs(c).join(' ')) && !skip(c));
      if (runnable.length === 0) break;
      passes++;
      for (const c of runnable) {
        if (skip(c)) continue;
        const args = commandArgs(c);
        const out = await counted.run(args);
        if (out.exitCode === 0) continue;
        const failure = ipvsadmFailure(args, out.exitCode, out.stderr);
        if (failure.kind === 'no-ipvs') return result(failure);
        failures.push({ command: c, args, exitCode: out.exitCode, stderr: out.stderr.trim(), pass: passes });
        if (out.exitCode === 2) malformed.add(args.join(' '));
        if (c.op === 'add-service') failedServices.add(serviceKey(c.service));
      }
      after = await readTable(counted);
      remaining = diffTable(after, resolveDesired(desired, after), managedKeys);
      if (signature(remaining) === tried) break; // nothing changed: another pass would fail alike
    }
    return result();
  } catch (e) {
    if (e instanceof IpvsadmError) return result(e);
    throw e;
  }
}

/**
 * Serialises reads and convergences on one ipvsadm (check results arrive concurrently;
 * two interleaved convergences would each see the other's half-applied table).
 */
export class IpvsReconciler {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(readonly runner: IpvsadmRunner, readonly options: Omit<ConvergeOptions, 'current'> = {}) {}

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(job);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  converge(desired: DesiredState, managed: Iterable<string>): Promise<ConvergeResult> {
    const keys = [...managed];
    return this.#enqueue(() => converge(this.runner, desired, keys, this.options));
  }

  read(): Promise<IpvsTable> {
    return this.#enqueue(() => readTable(this.runner));
  }
}
