// Converging the kernel table on a desired state: read, diff, apply one `ipvsadm -R` batch
// that also reads the table back, verify; if the table is not yet right, find out which
// command fails and why (ipvsadm's own stderr), apply the rest, verify again (see
// converge()). IpvsReconciler serialises convergences and reads on one ipvsadm.
import { commandArgs, commandTarget, restoreLine, type IpvsCommand } from './commands.js';
import { diffTable } from './diff.js';
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import type { IpvsadmRunner } from './ipvsadm-runner.js';
import { LISTING_COMMANDS, ListingStream, joinListings } from './listing-parser.js';
import {
  readChangedServices,
  readListedTable,
  readTable,
  runStreaming,
  type ChangedServicesQuery,
  type ListedTable,
  type ServicesRead,
} from './read-table.js';
import { serviceKey, type IpvsTable } from './table.js';

/** The desired table, or a function of the table just read (for reals whose state is not known yet). */
export type DesiredTable = IpvsTable | ((current: IpvsTable) => IpvsTable);

export interface ConvergeOptions {
  /**
   * Passes at most (each: send, then read back and diff again). Default 4. Passes stop
   * early when the table is right, or when a later pass changed nothing.
   */
  readonly maxPasses?: number;
  /** A table the caller has just read: saves the first read. */
  readonly current?: IpvsTable;
  /**
   * Service keys: only these services are parsed from the listings, compared and changed;
   * the rest of the table is neither read nor touched (a convergence after one real changed
   * state concerns its virtuals only). `current` must hold at least these services.
   */
  readonly scope?: ReadonlySet<string>;
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
  /**
   * The digests of the services of the scope in the listings `after` was read from
   * (service-digest.ts); undefined when `after` is the caller's `current` (nothing was read here).
   */
  readonly digests?: ReadonlyMap<string, number>;
  /** The commands the first diff asked for, in the order they were sent. */
  readonly planned: readonly IpvsCommand[];
  /**
   * The commands sent whose effect the read-back after their pass showed, in the order sent:
   * the planned ones, and those of later passes when the desired state (a function of the
   * table) asked for more meanwhile.
   */
  readonly applied: readonly IpvsCommand[];
  /** What a diff of the final table still asks for; empty when ok. */
  readonly remaining: readonly IpvsCommand[];
  /**
   * Those of `remaining` that were sent, as they were sent: changes ipvsadm was asked for
   * and the table read back does not show (not those the desired state asked for only
   * after the last pass).
   */
  readonly unapplied: readonly IpvsCommand[];
  /** Commands that ipvsadm refused when run alone (later passes), with its own message. */
  readonly failures: readonly CommandFailure[];
  /** Destination commands not run because their service could not be added in that pass. */
  readonly skipped: readonly IpvsCommand[];
  /** ipvsadm's stderr for the batches, each distinct text once (which line failed is not known from it). */
  readonly batchStderr: string;
  readonly passes: number;
  /** Commands handed to ipvsadm (whatever became of them): 0 means the table was not touched. */
  readonly sent: number;
  /** ipvsadm processes started. */
  readonly runs: number;
}

const resolveDesired = (d: DesiredTable, current: IpvsTable): IpvsTable => (typeof d === 'function' ? d(current) : d);
const argsText = (c: IpvsCommand): string => commandArgs(c).join(' ');
const signature = (cmds: readonly IpvsCommand[]): string => cmds.map(argsText).join('\n');
const isServiceCommand = (c: IpvsCommand): boolean => c.op === 'add-service' || c.op === 'edit-service' || c.op === 'delete-service';

/** Up to this many destination commands left over after a batch are run one by one. */
const ONE_BY_ONE_MAX = 32;

/**
 * Makes the managed services of the kernel table equal `desired`. Never throws for
 * ipvsadm trouble: that is reported in the result (`error`, `failures`, `remaining`).
 *
 * Pass 1 sends every command in one `ipvsadm -R` and reads the table back in the same
 * process. ipvsadm -R goes on after a line the kernel refuses (its exit status is then
 * that of the LAST line only) but stops at the first line it cannot parse (exit status
 * 2); the read-back tells what happened either way. Later passes work on what the read-back
 * still lacks: service commands one by one, so that each refusal comes with ipvsadm's own
 * message; destination commands one by one when they are few, else in a batch again (and
 * in a batch, with the read-back, when none of them was sent before: check results that
 * arrived meanwhile, not refusals to explain). A
 * batch that stopped at a line ipvsadm could not parse is bisected to that line, so one bad
 * line among thousands costs a few batches, not thousands of processes. A command refused as
 * malformed (exit status 2) would be refused again and is not re-sent, nor are the
 * destination commands of a service that could not be added.
 */
export async function converge(
  runner: IpvsadmRunner,
  desired: DesiredTable,
  managed: Iterable<string>,
  o: ConvergeOptions = {},
): Promise<ConvergeResult> {
  const scope = o.scope;
  const managedKeys = scope ? [...managed].filter((k) => scope.has(k)) : [...managed];
  const maxPasses = Math.max(1, o.maxPasses ?? 4);
  let runs = 0;
  let sentCount = 0;
  const counted: IpvsadmRunner = {
    path: runner.path,
    run: (a, i, onStdout) => {
      runs++;
      return runner.run(a, i, onStdout);
    },
  };
  let before: IpvsTable | undefined;
  let after: IpvsTable | undefined;
  let digests: ReadonlyMap<string, number> | undefined;
  let planned: IpvsCommand[] = [];
  let remaining: IpvsCommand[] = [];
  const applied: IpvsCommand[] = [];
  const failures: CommandFailure[] = [];
  const skipped: IpvsCommand[] = [];
  const skippedKeys = new Set<string>();
  const batchErrors: string[] = [];
  let passes = 0;
  const malformed = new Set<string>();
  /**
   * What each pass sent. Only a later pass and the result's `unapplied` ask what was sent,
   * which a first batch that worked never needs: the set of their argsText() is made on the
   * first question, not kept through every convergence of the whole table.
   */
  const sentPasses: (readonly IpvsCommand[])[] = [];
  let sentArgs: Set<string> | undefined;
  const wasSent = (c: IpvsCommand): boolean => (sentArgs ??= new Set(sentPasses.flat().map(argsText))).has(argsText(c));
  let failedServices = new Set<string>();

  const result = (error?: IpvsadmError): ConvergeResult => {
    return {
      ok: error === undefined && remaining.length === 0,
      ...(error ? { error } : {}),
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      ...(after && digests ? { digests } : {}),
      planned,
      // each verified by a read-back before the error
      applied,
      remaining,
      unapplied: error || remaining.length === 0 ? [] : remaining.filter(wasSent),
      failures,
      skipped,
      batchStderr: batchErrors.join('\n'),
      passes,
      sent: sentCount,
      runs,
    };
  };
  /** Destination command of a service that could not be added: noted, not run. */
  const skip = (c: IpvsCommand): boolean => {
    if (isServiceCommand(c) || !failedServices.has(serviceKey(c.service))) return false;
    const k = argsText(c);
    if (!skippedKeys.has(k)) {
      skippedKeys.add(k);
      skipped.push(c);
    }
    return true;
  };
  /** Runs one command alone; records its refusal. Throws the no-ipvs error. */
  const runOne = async (c: IpvsCommand): Promise<void> => {
    const args = commandArgs(c);
    sentCount++;
    const out = await counted.run(args);
    if (out.exitCode === 0) return;
    const failure = ipvsadmFailure(args, out.exitCode, out.stderr);
    if (failure.kind === 'no-ipvs') throw failure;
    failures.push({ command: c, args, exitCode: out.exitCode, stderr: out.stderr.trim(), pass: passes });
    if (out.exitCode === 2) malformed.add(args.join(' '));
    if (c.op === 'add-service') failedServices.add(serviceKey(c.service));
  };
  /**
   * Runs commands as one ipvsadm -R, followed by the listings when `readBack`; undefined
   * when one of them cannot be a restore line, else whether ipvsadm stopped at a line it
   * could not parse, and the table the listings show (undefined if it stopped or they
   * cannot be read).
   */
  const runBatch = async (
    cmds: readonly IpvsCommand[],
    readBack = false,
  ): Promise<{ stopped: boolean; read: ListedTable | undefined } | undefined> => {
    const input = restoreInput(cmds, readBack);
    if (input === undefined) return undefined;
    sentCount += cmds.length;
    const stream = readBack ? new ListingStream(scope, 1, 'scope') : undefined;
    const out = stream ? await runStreaming(counted, ['-R'], input, stream) : await counted.run(['-R'], input);
    const text = out.stderr.trim();
    if (text !== '' && !batchErrors.includes(text)) batchErrors.push(text);
    if (out.exitCode !== 0) {
      const failure = ipvsadmFailure(['-R'], out.exitCode, out.stderr);
      if (failure.kind === 'no-ipvs') throw failure;
    }
    const stopped = out.exitCode === 2;
    return { stopped, read: stream && !stopped ? listedOrUndefined(stream) : undefined };
  };
  /** After `cmds` stopped a batch: finds the line that stopped it by bisection, and runs it alone. */
  const pinpoint = async (cmds: readonly IpvsCommand[]): Promise<void> => {
    let range = cmds;
    while (range.length > 1) {
      const half = range.slice(0, Math.ceil(range.length / 2));
      // lines before the bad one are applied again: at worst the kernel refuses them as
      // duplicates, which does not stop a batch
      range = (await runBatch(half))?.stopped ? half : range.slice(half.length);
    }
    if (range[0]) await runOne(range[0]);
  };
  try {
    if (o.current) before = o.current;
    else ({ table: before, digests } = await readListedTable(counted, scope));
    let target = resolveDesired(desired, before);
    planned = diffTable(before, target, managedKeys);
    remaining = planned;
    after = before;

    while (remaining.length > 0 && passes < maxPasses) {
      const tried = passes > 0 ? signature(remaining) : '';
      failedServices = new Set<string>();
      for (const c of remaining) {
        if (c.op === 'add-service' && malformed.has(argsText(c))) failedServices.add(serviceKey(c.service));
      }
      const runnable = malformed.size === 0 ? remaining : remaining.filter((c) => !malformed.has(argsText(c)));
      if (runnable.every(skip)) break;
      passes++;
      let readBack: ListedTable | undefined;
      const first = passes === 1 ? await runBatch(runnable, true) : undefined;
      if (first) {
        // everything at once, with the verifying listings at the end
        if (first.stopped) await pinpoint(runnable);
        else readBack = first.read;
      } else {
        for (const c of runnable) if (isServiceCommand(c)) await runOne(c);
        const dests = runnable.filter((c) => !isServiceCommand(c) && !skip(c));
        // Commands no pass has sent yet (check results that arrived meanwhile) have not
        // failed: they go in one batch, read back in the same process, however few. One by
        // one is for the few that a batch did not apply, to get ipvsadm's message for each.
        const fresh = dests.length > 0 && !dests.some(wasSent);
        const batch = dests.length > ONE_BY_ONE_MAX || fresh ? await runBatch(dests, true) : undefined;
        if (batch?.stopped) await pinpoint(dests);
        else if (batch) readBack = batch.read;
        else for (const c of dests) await runOne(c);
      }
      sentPasses.push(runnable);
      sentArgs = undefined;
      ({ table: after, digests } = readBack ?? (await readListedTable(counted, scope)));
      // Applied: what the read-back shows of the table this pass aimed at. A desired state
      // that is a function of the table (check results keep arriving) may then ask for more:
      // the next pass sends that, and it is reported too.
      const open = diffTable(after, target, managedKeys);
      const openTargets = new Set(open.map(commandTarget));
      for (const c of runnable) if (!openTargets.has(commandTarget(c))) applied.push(c);
      if (typeof desired === 'function') {
        target = desired(after);
        remaining = diffTable(after, target, managedKeys);
      } else remaining = open;
      if (passes > 1 && signature(remaining) === tried) break; // nothing changed: another pass would fail alike
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

  constructor(
    readonly runner: IpvsadmRunner,
    readonly options: Omit<ConvergeOptions, 'current' | 'scope'> = {},
  ) {}

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(job);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  /** `o.current`: the table as the caller has just read it (saves one listing); `o.scope`: see ConvergeOptions. */
  converge(desired: DesiredTable, managed: Iterable<string>, o: Pick<ConvergeOptions, 'current' | 'scope'> = {}): Promise<ConvergeResult> {
    const keys = [...managed];
    return this.#enqueue(() => converge(this.runner, desired, keys, { ...this.options, ...o }));
  }

  /** The table, or only the services in `scope`. */
  read(scope?: ReadonlySet<string>): Promise<IpvsTable> {
    return this.#enqueue(() => readTable(this.runner, scope));
  }

  /** The whole table read once, the services changed since last found right parsed (see readChangedServices()). */
  readChanged(q: ChangedServicesQuery): Promise<ServicesRead> {
    return this.#enqueue(() => readChangedServices(this.runner, q));
  }
}

/**
 * The `ipvsadm -R` input for `cmds`, the listings after them when `readBack`; undefined when
 * one of them cannot be a restore line. Its own function so that the lines (a string per
 * command) are garbage while ipvsadm runs: only the joined input is needed then.
 */
function restoreInput(cmds: readonly IpvsCommand[], readBack: boolean): string | undefined {
  const lines: string[] = [];
  for (const c of cmds) {
    const l = restoreLine(c);
    if (l === undefined) return undefined;
    lines.push(l);
  }
  return lines.join('\n') + '\n' + (readBack ? LISTING_COMMANDS : '');
}

/** The table of a read-back's listings, with their digests; undefined when they cannot be read (the caller reads again). */
function listedOrUndefined(stream: ListingStream): ListedTable | undefined {
  try {
    const table = joinListings(stream.end());
    return { table, digests: stream.digests() };
  } catch {
    return undefined;
  }
}
