// Reading the kernel's IPVS table: ipvsadm prints both listings (listing-parser.ts says
// why two) from one process, parsed into the table model as they arrive.
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import type { IpvsadmOutput, IpvsadmRunner } from './ipvsadm-runner.js';
import { LISTING_COMMANDS, ListingStream, joinListings } from './listing-parser.js';
import { ABSENT } from './service-digest.js';
import type { IpvsTable } from './table.js';

/**
 * Reads the kernel table: one ipvsadm process runs `-L -n` and `-L -n --thresholds`
 * (restore input may hold any ipvsadm command, listings included). One process instead
 * of two halves the cost of a read and narrows the window in which the table can change
 * between the two listings; if it did change, the read is repeated. With `scope`, only
 * those services are parsed (ipvsadm still lists them all).
 * Throws IpvsadmError: `no-ipvs`, `spawn`, `timeout`, `failed` or `parse`.
 */
export async function readTable(runner: IpvsadmRunner, scope?: ReadonlySet<string>, attempts = 3): Promise<IpvsTable> {
  return (await readListedTable(runner, scope, attempts)).table;
}

/** One read of the whole table or of the services in `scope` (readTable() without the repeat). */
export async function readTableOnce(runner: IpvsadmRunner, scope?: ReadonlySet<string>): Promise<IpvsTable> {
  return (await readListedOnce(runner, scope)).table;
}

/** A table read, with the digest of each service of its scope listed (of every one without a scope; service-digest.ts). */
export interface ListedTable {
  readonly table: IpvsTable;
  readonly digests: ReadonlyMap<string, number>;
}

/** readTable(), with the digests. */
export async function readListedTable(runner: IpvsadmRunner, scope?: ReadonlySet<string>, attempts = 3): Promise<ListedTable> {
  return retried(() => readListedOnce(runner, scope), attempts);
}

async function readListedOnce(runner: IpvsadmRunner, scope?: ReadonlySet<string>): Promise<ListedTable> {
  const stream = new ListingStream(scope, 1, 'scope');
  const r = await runStreaming(runner, ['-R'], LISTING_COMMANDS, stream);
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  const table = joinListings(stream.end());
  return { table, digests: stream.digests() };
}

/** A read repeated while the table changed between its two listings. */
async function retried<T>(read: () => Promise<T>, attempts: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (e) {
      if (i >= attempts || !(e instanceof IpvsadmError) || !/changed while/.test(e.message)) throw e;
    }
  }
}

export interface ServicesRead extends ListedTable {
  /** The services to look at: see readChangedServices(). `table` holds those (nothing else is parsed). */
  readonly scope: ReadonlySet<string>;
}

export interface ChangedServicesQuery {
  /** The services that count (the managed ones). */
  readonly managed: ReadonlySet<string>;
  /** Digests of services as last found right (ABSENT: right in being absent). */
  readonly known: ReadonlyMap<string, number>;
  /** Services to look at whatever their digest ('all': every managed one). */
  readonly look: ReadonlySet<string> | 'all';
}

/**
 * One read of the whole table, in which only the managed services whose lines differ from
 * those last found right (by digest), and those of `q.look`, are parsed: the drift check
 * mostly finds few or none changed, and then makes no table to throw away (the output waits
 * in the buffers it came in until the digests are known).
 */
export async function readChangedServices(runner: IpvsadmRunner, q: ChangedServicesQuery, attempts = 3): Promise<ServicesRead> {
  return retried(() => readChangedOnce(runner, q), attempts);
}

async function readChangedOnce(runner: IpvsadmRunner, q: ChangedServicesQuery): Promise<ServicesRead> {
  const chunks: Buffer[] = [];
  const digesting = new ListingStream(NOTHING, 1, 'all');
  const take = (chunk: Buffer): void => {
    digesting.push(chunk);
    chunks.push(chunk);
  };
  const r = await runTaking(runner, ['-R'], LISTING_COMMANDS, take);
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  // `take` lives on in the pipe's listeners until the pipe has closed: the output it kept
  // is handed over (or dropped) now, not after the convergence that follows the read.
  const output = chunks.splice(0);
  // Destination lines outside the scope are not parsed: a line cut short must still be told.
  const last = output.at(-1);
  if (last && last[last.length - 1] !== 0x0a) throw new IpvsadmError('parse', 'cannot read ipvsadm output: it ends within a line');
  digesting.end();
  const digests = digesting.digests();
  const scope = new Set<string>();
  for (const k of q.managed) {
    if (q.look === 'all' || q.look.has(k) || q.known.get(k) !== (digests.get(k) ?? ABSENT)) scope.add(k);
  }
  if (scope.size === 0) return { digests, scope, table: { services: [] } };
  const stream = new ListingStream(scope);
  for (const c of output) stream.push(c);
  return { digests, scope, table: joinListings(stream.end()) };
}

const NOTHING: ReadonlySet<string> = new Set();

/**
 * Runs ipvsadm with its stdout fed to `stream` as it arrives. The caller asks stream.end()
 * for the listings once the exit status tells whether they count.
 */
export function runStreaming(runner: IpvsadmRunner, args: readonly string[], input: string, stream: ListingStream): Promise<IpvsadmOutput> {
  return runTaking(runner, args, input, (chunk) => stream.push(chunk));
}

/** Runs ipvsadm with its stdout given to `take` as it arrives, or at once from a runner that returns it whole. */
async function runTaking(
  runner: IpvsadmRunner,
  args: readonly string[],
  input: string,
  take: (chunk: Buffer) => void,
): Promise<IpvsadmOutput> {
  const r = await runner.run(args, input, take);
  if (r.stdout !== '') take(Buffer.from(r.stdout, 'latin1'));
  return r;
}
