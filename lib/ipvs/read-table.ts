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
      return (await readTableOnce(runner, scope)).table;
    } catch (e) {
      if (i >= attempts || !(e instanceof IpvsadmError) || !/changed while/.test(e.message)) throw e;
    }
  }
}

export interface TableRead {
  readonly table: IpvsTable;
  /** Of ipvsadm's output, byte for byte: equal digests, identical listings. */
  readonly digest: string;
}

/** One read of the whole table (readTable() without the repeat), with a digest of the listings. */
export async function readTableOnce(runner: IpvsadmRunner, scope?: ReadonlySet<string>): Promise<TableRead> {
  const hash = createHash('sha1');
  const stream = new ListingStream(scope);
  const r = await runStreaming(runner, ['-R'], LISTING_COMMANDS, stream, (chunk) => hash.update(chunk));
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  return { table: joinListings(stream.end()), digest: hash.digest('hex') };
}

/**
 * Runs ipvsadm with its stdout fed to `stream` as it arrives (`tap` sees each chunk
 * first). The caller asks stream.end() for the listings once the exit status tells
 * whether they count.
 */
export async function runStreaming(
  runner: IpvsadmRunner,
  args: readonly string[],
  input: string,
  stream: ListingStream,
  tap?: (chunk: Buffer) => void,
): Promise<IpvsadmOutput> {
  const r = await runner.run(args, input, (chunk) => {
    tap?.(chunk);
    stream.push(chunk);
  });
  if (r.stdout !== '') {
    // a runner that returned it whole
    const whole = Buffer.from(r.stdout, 'latin1');
    tap?.(whole);
    stream.push(whole);
  }
  return r;
}
