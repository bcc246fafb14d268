// service=nntp (spec §3.3): TCP connect, wait for data, read up to 64 bytes; up when
// the data starts with "2". The original's connect had no effective timeout (its
// `TimeOut` option was misspelt, so the OS connect timeout applied); here the whole
// check runs under negotiatetimeout. No library: the check is one read of a greeting.
import type { Checker, CheckResult, CheckTarget } from './types.js';
import { Outcome } from './outcome.js';
import { connectTcp, Scope, why } from './data-io.js';

export const nntpChecker: Checker = {
  name: 'nntp',
  defaultPort: 119,
  timeoutSeconds: (virtual) => virtual.negotiatetimeout,
  async probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    const out = new Outcome();
    const scope = new Scope(signal);
    try {
      const socket = await connectTcp(scope, target.host, target.port);
      const first = await scope.race(
        new Promise<Buffer>((resolve) => {
          socket.once('data', (chunk: Buffer) => resolve(chunk.subarray(0, 64)));
          socket.once('end', () => resolve(Buffer.alloc(0)));
          socket.once('close', () => resolve(Buffer.alloc(0)));
        }),
      );
      const greeting = first.toString('latin1').replace(/\r?\n[\s\S]*$/, '');
      if (first.length > 0 && first[0] === 0x32 /* '2' */) return out.up('-', { detail: `greeting: ${greeting}` });
      return out.down('-', { detail: first.length === 0 ? 'closed without a greeting' : `greeting: ${greeting}` });
    } catch (err) {
      return out.down('-', { detail: why(err, scope) });
    } finally {
      scope.close();
    }
  },
};
