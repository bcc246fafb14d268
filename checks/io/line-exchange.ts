// The exchanges of the line-reading checks (simpletcp, sip): write a payload, then judge
// what comes back line by line, in arrival order, until a line is accepted or the peer
// ends the stream. Memory stays bounded: a long line arrives in pieces (LineSplitter)
// and reading stops while too many lines wait for their judgement.
import type net from 'node:net';
import type { Scope } from './deadline.js';
import { dialIn, dialUdp } from './dial.js';
import { LineSplitter } from './lines.js';

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
  const socket = await dialIn(scope, { host, port });
  const data =
    typeof payload === 'function'
      ? payload({ address: socket.localAddress ?? '', family: socket.localFamily ?? '', port: socket.localPort ?? 0 })
      : payload;
  return scope.race(
    new Promise<boolean>((resolve) => {
      const lines = new LineSplitter();
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
export async function udpExchange(scope: Scope, host: string, port: number, payload: Payload, done: LineJudge): Promise<boolean> {
  const socket = await dialUdp(scope, host, port);
  const data = typeof payload === 'function' ? payload(socket.address()) : payload;
  return scope.race(
    new Promise<boolean>((resolve) => {
      const lines = new LineSplitter();
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
