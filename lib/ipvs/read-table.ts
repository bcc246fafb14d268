// Reading the kernel's IPVS table: ipvsadm prints both listings (listing-parser.ts says
// why two) from one process, parsed into the table model as they arrive.
import { createHash } from 'node:crypto';
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import type { IpvsadmOutput, IpvsadmRunner } from './ipvsadm-runner.js';
import { LISTING_COMMANDS, ListingStream, joinListings } from './listing-parser.js';
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
  for (let i = 1; ; i++) {
    try {
      return await readTableOnce(runner, scope);
    } catch (e) {
      if (i >= attempts || !(e instanceof IpvsadmError) || !/changed while/.test(e.message)) throw e;
    }
  }
}

/** One read of the whole table or of the services in `scope` (readTable() without the repeat). */
export async function readTableOnce(runner: IpvsadmRunner, scope?: ReadonlySet<string>): Promise<IpvsTable> {
  const stream = new ListingStream(scope);
  const r = await runStreaming(runner, ['-R'], LISTING_COMMANDS, stream);
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  return joinListings(stream.end());
}

export interface TableRead {
  /** Of ipvsadm's output, byte for byte: equal digests, identical listings. */
  readonly digest: string;
  /** Undefined when the digest is the one the caller knew: nothing was parsed. */
  readonly table?: IpvsTable;
}

/**
 * One read of the whole table, parsed only if the listings are not, to the byte, those
 * whose digest is `known`: the drift check's reads mostly find the table as it was, and
 * then make no table to throw away (the output waits in the buffers it came in).
 */
export async function readTableUnlessKnown(runner: IpvsadmRunner, known?: string): Promise<TableRead> {
  const hash = createHash('sha1');
  const chunks: Buffer[] = [];
  const take = (chunk: Buffer): void => {
    hash.update(chunk);
    chunks.push(chunk);
  };
  const r = await runTaking(runner, ['-R'], LISTING_COMMANDS, take);
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  const digest = hash.digest('hex');
  // `take` lives on in the pipe's listeners until the pipe has closed: the output it kept
  // is handed over (or dropped) now, not after the convergence that follows the read.
  const output = chunks.splice(0);
  if (digest === known) return { digest };
  const stream = new ListingStream();
  for (const c of output) stream.push(c);
  return { digest, table: joinListings(stream.end()) };
}

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
