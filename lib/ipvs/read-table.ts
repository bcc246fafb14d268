// Reading the kernel's IPVS table: ipvsadm prints both listings (listing-parser.ts says
// why two) from one process, and they are parsed into the table model.
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import type { IpvsadmRunner } from './ipvsadm-runner.js';
import { LISTING_COMMANDS, parseListings } from './listing-parser.js';
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
    const text = await readListings(runner);
    try {
      return parseListings(text, scope);
    } catch (e) {
      if (i >= attempts || !(e instanceof IpvsadmError) || !/changed while/.test(e.message)) throw e;
    }
  }
}

/** The listings readTable() parses, as ipvsadm printed them (one process). */
export async function readListings(runner: IpvsadmRunner): Promise<string> {
  const r = await runner.run(['-R'], LISTING_COMMANDS);
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  return r.stdout;
}
