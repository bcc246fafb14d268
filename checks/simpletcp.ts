// service=simpletcp (spec §3.3): connect with the virtual's protocol (UDP for udp
// virtuals, TCP otherwise), send the request (leading '/' dropped, each literal "\n"
// turned into LF), half-close, then read line by line: up when a line matches receive
// (an empty receive matches any line); EOF without a match is down. Whole check under
// negotiatetimeout. No library: the protocol is "write, read lines".
//
// UDP: replies are read as one byte stream, as Perl's readline on a datagram socket
// does, so a reply line needs its "\n" and there is no EOF: no match is down at the
// timeout. (Perl saw ICMP port-unreachable as an early EOF; Node does not report it.)
import { Scope, why } from './io/deadline.js';
import { tcpExchange, udpExchange } from './io/line-exchange.js';
import { Outcome } from './outcome.js';
import { matchReceive } from './receive-match.js';
import { defineChecker, NEGOTIATETIMEOUT } from './types.js';

export const simpletcpChecker = defineChecker({
  name: 'simpletcp',
  timeout: NEGOTIATETIMEOUT,
  options: ({ virtual: v }) => ({ udp: v.protocol === 'udp' }),
  async probe(target, o, signal) {
    const out = new Outcome();
    const scope = new Scope(signal);
    const payload = Buffer.from(target.request.slice(1).replace(/\\n/g, '\n'), 'utf8');
    let lines = 0;
    let unfinished: string | undefined;
    const matches = async (line: Buffer): Promise<boolean> => {
      lines++;
      if (target.receive === '') return true;
      unfinished = `receive did not finish matching line ${lines}`;
      const verdict = await matchReceive(target.receive, line, signal);
      unfinished = verdict.kind === 'unfinished' ? verdict.detail : undefined;
      return verdict.kind === 'match';
    };
    try {
      const ok = o.udp
        ? await udpExchange(scope, target.host, target.port, payload, matches)
        : await tcpExchange(scope, target.host, target.port, payload, matches);
      if (ok) return out.up('-', { detail: `line ${lines} matched` });
      return out.down('-', { detail: unfinished ?? `end of data after ${lines} line(s), none matched` });
    } catch (err) {
      if (!scope.isAborted) return out.down('-', { detail: why(err, scope) });
      return out.down('-', { detail: unfinished ?? `timed out after ${lines} line(s), none matched` });
    } finally {
      scope.close();
    }
  },
});
