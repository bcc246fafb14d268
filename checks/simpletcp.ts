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
import { connectTcp, LineReader, Scope, why } from './data-io.js';
import { matchReceive } from './receive-match.js';

export const simpletcpChecker: Checker = {
  name: 'simpletcp',
  timeoutSeconds: (virtual) => virtual.negotiatetimeout,
  async probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
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
      const ok =
        target.virtual.protocol === 'udp'
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
};

/** The bytes to send, or a function of the local address (SIP's Via header needs it). */
export type Payload = Buffer | ((local: net.AddressInfo) => Buffer);

/** Lines read ahead of the one being judged. */
const MAX_PENDING_LINES = 64;

/** Decides on one line; may answer later (receive matching can run off the event loop). */
export type LineJudge = (line: Buffer) => boolean | Promise<boolean>;

/**
 * Judges lines one at a time, in arrival order, until one is accepted: `accept` runs
 * once, after the judgement of every earlier line.
 */
class LineQueue {
  private chain: Promise<void> = Promise.resolve();
  private accepted = false;
  /** Lines pushed and not yet judged: the reader stops reading while there are many. */
  pending = 0;
  onDrained: () => void = () => undefined;

  constructor(
    private readonly judge: LineJudge,
    private readonly accept: () => void,
  ) {}

  get done(): boolean {
    return this.accepted;
  }

  push(line: Buffer): void {
    this.pending++;
    this.then(async () => {
      if (!this.accepted && (await this.judge(line))) {
        this.accepted = true;
        this.accept();
      }
    });
    this.then(() => {
      if (--this.pending === 0) this.onDrained();
    }, true);
  }

  /** Runs `next` after every line pushed so far has been judged (and none accepted, unless `always`). */
  then(next: () => void | Promise<void>, always = false): void {
    this.chain = this.chain
      .then(async () => {
        if (always || !this.accepted) await next();
      })
      .catch(() => undefined);
  }
}

/**
 * Write, half-close (unless told not to), and read lines (and the unterminated rest at
 * EOF) until `done` returns true (resolves true) or the peer ends the stream (false).
 */
export async function tcpExchange(
  scope: Scope,
  host: string,
  port: number,
  payload: Payload,
  done: LineJudge,
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
      let ended = false;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(ok);
      };
      const queue = new LineQueue(done, () => finish(true));
      queue.onDrained = () => socket.resume();
      socket.on('data', (chunk: Buffer) => {
        if (settled || ended || queue.done) return;
        for (const line of lines.push(chunk)) queue.push(line);
        // Lines wait for their turn in memory: read no more until they are judged.
        if (queue.pending > MAX_PENDING_LINES) socket.pause();
      });
      const atEof = (): void => {
        if (settled || ended) return;
        ended = true;
        const last = lines.end();
        if (last !== undefined) queue.push(last);
        queue.then(() => finish(false));
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
  done: LineJudge,
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
      const queue = new LineQueue(done, () => resolve(true));
      socket.on('message', (msg: Buffer) => {
        if (queue.done) return;
        // A datagram socket cannot be paused: under a flood, lines beyond the backlog are dropped.
        for (const line of lines.push(msg)) if (queue.pending <= MAX_PENDING_LINES) queue.push(line);
      });
      // A UDP socket has no EOF: without a matching line the check ends at its timeout.
      if (data.length > 0) socket.send(data);
    }),
  );
}
