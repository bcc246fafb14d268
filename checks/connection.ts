// A TCP (or TLS) connection for the line-based protocols (POP3, IMAP), bounded in
// bytes and ended by an AbortSignal: whatever the peer does (hangs after accept,
// trickles bytes, floods), reads end when the signal aborts and never hold more than
// `maxBytes` in memory.
import net from 'node:net';
import tls from 'node:tls';
import { isCertificateVerifyError } from './tls-trust.js';

export interface OpenOptions {
  readonly host: string;
  readonly port: number;
  readonly signal: AbortSignal;
  /** Present for implicit TLS (pops, imaps). */
  readonly tls?: tls.ConnectionOptions;
  /** Source address to connect from (default: chosen by the kernel). */
  readonly localAddress?: string;
}

/** The reason a check ends, with the words of the underlying error. */
export class CheckAbort extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'refused' | 'closed' | 'overflow' | 'tls' | 'protocol' | 'error',
    /** The socket error this was made from (its code tells callers what happened). */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export function abortError(signal: AbortSignal): CheckAbort {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  const text = reason?.name === 'TimeoutError' || reason === undefined ? 'timed out' : `aborted (${reason.message ?? String(reason)})`;
  return new CheckAbort(text, 'timeout');
}

export function classifySocketError(err: unknown): CheckAbort {
  if (err instanceof CheckAbort) return err;
  const e = err as NodeJS.ErrnoException;
  if (isCertificateVerifyError(e)) return new CheckAbort(`certificate verify failed (${e.code}: ${e.message})`, 'tls', e);
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new CheckAbort(`hostname verification failed (${e.message})`, 'tls', e);
  if (e.code === 'ECONNREFUSED') return new CheckAbort('connection refused', 'refused', e);
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return new CheckAbort(`connection reset (${e.code})`, 'closed', e);
  return new CheckAbort(e.code ? `${e.message} (${e.code})` : e.message, 'error', e);
}

/** Connects (and for TLS completes the handshake) or rejects with a CheckAbort. */
export function openSocket(o: OpenOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) {
      reject(abortError(o.signal));
      return;
    }
    const local = o.localAddress === undefined ? {} : { localAddress: o.localAddress };
    const socket: net.Socket = o.tls
      ? tls.connect({ ...o.tls, host: o.host, port: o.port, ...local })
      : net.connect({ host: o.host, port: o.port, ...local });
    const onAbort = (): void => {
      socket.destroy();
      reject(abortError(o.signal));
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      o.signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      // The caller adds its own handlers; until then an error must not be unhandled.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    const onError = (err: Error): void => {
      o.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(classifySocketError(err));
    };
    socket.once('error', onError);
  });
}

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
