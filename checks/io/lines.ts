// Reading lines from a probe's peer, bounded in memory whatever the peer sends: a
// LineConnection for the conversations (POP3, IMAP, SMTP), ended by the AbortSignal, and
// a LineSplitter that cuts a byte stream the way Perl's readline does (simpletcp, sip).
import type net from 'node:net';
import { abortError, CheckAbort, classifySocketError } from './dial.js';

export interface LineLimits {
  /** Longest line accepted (bytes, without CRLF). */
  readonly maxLine: number;
  /** Most bytes read from the peer over the whole conversation. */
  readonly maxBytes: number;
}

export const DEFAULT_LINE_LIMITS: LineLimits = { maxLine: 8192, maxBytes: 256 * 1024 };

/** Reads CRLF- (or LF-) terminated lines from a connected socket. */
export class LineConnection {
  private buffer = '';
  private total = 0;
  private failure: CheckAbort | undefined;
  private waiter: { resolve: (line: string) => void; reject: (err: CheckAbort) => void } | undefined;
  private readonly onAbort = (): void => this.fail(abortError(this.signal));

  constructor(
    private readonly socket: net.Socket,
    private readonly signal: AbortSignal,
    private readonly limits: LineLimits = DEFAULT_LINE_LIMITS,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.total += chunk.length;
      if (this.total > limits.maxBytes) {
        this.fail(new CheckAbort(`peer sent more than ${limits.maxBytes} bytes`, 'overflow'));
        return;
      }
      this.buffer += chunk;
      this.deliver();
    });
    socket.on('error', (err) => this.fail(classifySocketError(err)));
    socket.on('close', () => this.fail(new CheckAbort('connection closed by peer', 'closed')));
    if (signal.aborted) this.onAbort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next line without its line end. */
  readLine(): Promise<string> {
    if (this.waiter) return Promise.reject(new Error('LineConnection: concurrent readLine'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
    });
  }

  write(line: string): void {
    if (!this.failure) this.socket.write(`${line}\r\n`, 'utf8');
  }

  /** Sends a last command (QUIT, LOGOUT) without waiting, then closes. */
  close(lastLine?: string): void {
    this.signal.removeEventListener('abort', this.onAbort);
    if (lastLine !== undefined && !this.failure && !this.socket.destroyed) {
      this.socket.end(`${lastLine}\r\n`, 'utf8');
      const timer = setTimeout(() => this.socket.destroy(), 1000);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
    } else {
      this.socket.destroy();
    }
    this.failure ??= new CheckAbort('closed', 'closed');
  }

  private deliver(): void {
    if (!this.waiter) return;
    if (this.failure && this.buffer.indexOf('\n') < 0) {
      const { reject } = this.waiter;
      this.waiter = undefined;
      reject(this.failure);
      return;
    }
    const nl = this.buffer.indexOf('\n');
    if (nl < 0) {
      if (this.buffer.length > this.limits.maxLine) {
        this.fail(new CheckAbort(`line longer than ${this.limits.maxLine} bytes`, 'overflow'));
      }
      return;
    }
    const line = this.buffer.slice(0, nl).replace(/\r$/, '');
    this.buffer = this.buffer.slice(nl + 1);
    const { resolve } = this.waiter;
    this.waiter = undefined;
    resolve(line);
  }

  private fail(err: CheckAbort): void {
    if (!this.failure) {
      this.failure = err;
      this.signal.removeEventListener('abort', this.onAbort);
      this.socket.destroy();
    }
    if (err.kind === 'overflow' || err.kind === 'timeout') this.buffer = '';
    this.deliver();
  }
}

/** Longest line kept in memory; a longer one is handed out in pieces of this size. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Splits a byte stream into lines the way Perl's readline does (each line keeps its
 * "\n"; the rest at EOF is a last line). Memory is bounded by MAX_LINE_BYTES.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) break;
      const piece = chunk.subarray(from, nl + 1);
      lines.push(...this.take(piece));
      from = nl + 1;
    }
    let rest = chunk.subarray(from);
    while (rest.length > 0) {
      const room = MAX_LINE_BYTES - this.pendingBytes;
      this.pending.push(rest.subarray(0, room));
      this.pendingBytes += Math.min(room, rest.length);
      rest = rest.subarray(room);
      if (this.pendingBytes >= MAX_LINE_BYTES) lines.push(this.flush());
    }
    return lines;
  }

  /** The unterminated last line at EOF, if any. */
  end(): Buffer | undefined {
    return this.pendingBytes > 0 ? this.flush() : undefined;
  }

  private take(piece: Buffer): Buffer[] {
    if (this.pendingBytes === 0) return piece.length <= MAX_LINE_BYTES ? [Buffer.from(piece)] : this.split(piece);
    const out: Buffer[] = [];
    const room = MAX_LINE_BYTES - this.pendingBytes;
    if (piece.length <= room) {
      this.pending.push(piece);
      this.pendingBytes += piece.length;
      out.push(this.flush());
      return out;
    }
    this.pending.push(piece.subarray(0, room));
    this.pendingBytes += room;
    out.push(this.flush());
    return out.concat(this.split(piece.subarray(room)));
  }

  private split(piece: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let at = 0; at < piece.length; at += MAX_LINE_BYTES) {
      out.push(Buffer.from(piece.subarray(at, at + MAX_LINE_BYTES)));
    }
    return out;
  }

  private flush(): Buffer {
    const line = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return line;
  }
}
