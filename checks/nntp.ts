// service=nntp (spec §3.3): TCP connect, wait for data, read up to 64 bytes; up when
// the data starts with "2". The original's connect had no effective timeout (its
// `TimeOut` option was misspelt, so the OS connect timeout applied); here the whole
// check runs under negotiatetimeout. No library: the check is one read of a greeting.
import { dialIn } from './io/dial.js';
import { Scope, why } from './io/deadline.js';
import { Outcome } from './outcome.js';
import { defineChecker, NEGOTIATETIMEOUT } from './types.js';

export const nntpChecker = defineChecker({
  name: 'nntp',
  defaultPort: 119,
  timeout: NEGOTIATETIMEOUT,
  options: () => ({}),
  async probe(target, _options, signal) {
    const out = new Outcome();
    const scope = new Scope(signal);
    try {
      const socket = await dialIn(scope, { host: target.host, port: target.port });
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
});
