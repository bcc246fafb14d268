// service=simpletcp (spec §3.3): connect with the virtual's protocol (UDP for udp
// virtuals, TCP otherwise), send the request (leading '/' dropped, each literal "\n"
// turned into LF), half-close, then read line by line: up when a line matches receive
// (an empty receive matches any line); EOF without a match is down. Whole check under
// negotiatetimeout. No library: the protocol is "write, read lines".
//
// UDP: replies are read as one byte stream, as Perl's readline on a datagram socket
// does, so a reply line needs its "\n" and there is no EOF: no match is down at the
// timeout. (Perl saw ICMP port-unreachable as an early EOF; Node does not report it.)
import dgram from 'node:dgram';
import net from 'node:net';
import type { Checker, CheckResult, CheckTarget } from './types.js';
import { Outcome } from './outcome.js';
import { connectTcp, LineReader, receiveMatches, Scope, why } from './data-io.js';

export const simpletcpChecker: Checker = {
  name: 'simpletcp',
  timeoutSeconds: (virtual) => virtual.negotiatetimeout,
  async probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    const out = new Outcome();
    const scope = new Scope(signal);
    const payload = Buffer.from(target.request.slice(1).replace(/\\n/g, '\n'), 'utf8');
    let lines = 0;
    const matches = (line: Buffer): boolean => {
      lines++;
      return target.receive === '' || receiveMatches(target.receive, line);
    };
    try {
      const ok =
        target.virtual.protocol === 'udp'
          ? await udpExchange(scope, target.host, target.port, payload, matches)
          : await tcpExchange(scope, target.host, target.port, payload, matches);
      if (ok) return out.up('-', { detail: `line ${lines} matched` });
      return out.down('-', { detail: `end of data after ${lines} line(s), none matched` });
    } catch (err) {
      return out.down('-', { detail: scope.isAborted ? `timed out after ${lines} line(s), none matched` : why(err, scope) });
    } finally {
      scope.close();
    }
  },
};

/** The bytes to send, or a function of the local address (SIP's Via header needs it). */
export type Payload = Buffer | ((local: net.AddressInfo) => Buffer);

/**
 * Write, half-close (unless told not to), and read lines (and the unterminated rest at
 * EOF) until `done` returns true (resolves true) or the peer ends the stream (false).
 */
export async function tcpExchange(
  scope: Scope,
  host: string,
  port: number,
  payload: Payload,
  done: (line: Buffer) => boolean,
  halfClose = true,
): Promise<boolean> {
  const socket = await connectTcp(scope, host, port);
  const data =
    typeof payload === 'function'
      ? payload({ address: socket.localAddress ?? '', family: socket.localFamily ?? '', port: socket.localPort ?? 0 })
      : payload;
  return scope.race(
    new Promise<boolean>((resolve) => {
      const lines = new LineReader();
      let settled = false;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(ok);
      };
      socket.on('data', (chunk: Buffer) => {
        if (settled) return;
        for (const line of lines.push(chunk)) if (done(line)) return finish(true);
      });
      const atEof = (): void => {
        if (settled) return;
        const last = lines.end();
        finish(last !== undefined && done(last));
      };
      socket.once('end', atEof);
      socket.once('close', atEof);
      if (halfClose) socket.end(data);
      else socket.write(data);
    }),
  );
}

/**
 * Send one datagram (none for an empty payload, like Perl's print of "") and read the
 * replies as one byte stream, line by line, until `done` returns true.
 */
export async function udpExchange(
  scope: Scope,
  host: string,
  port: number,
  payload: Payload,
  done: (line: Buffer) => boolean,
): Promise<boolean> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  scope.defer(() => {
    try {
      socket.close();
    } catch {
      // already closed
    }
  });
  await scope.race(
    new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => resolve());
    }),
  );
  const data = typeof payload === 'function' ? payload(socket.address()) : payload;
  return scope.race(
    new Promise<boolean>((resolve) => {
      const lines = new LineReader();
      let settled = false;
      socket.on('message', (msg: Buffer) => {
        if (settled) return;
        for (const line of lines.push(msg)) {
          if (done(line)) {
            settled = true;
            return resolve(true);
          }
        }
      });
      // A UDP socket has no EOF: without a matching line the check ends at its timeout.
      if (data.length > 0) socket.send(data);
    }),
  );
}
