// Small I/O pieces shared by the data-service checkers (nntp, ldap, dns, radius, sql,
// sip, simpletcp): Perl truthiness, a scope that
// ties sockets and timers to the runner's AbortSignal, and a bounded line reader.
import net from 'node:net';
import { describeError } from './outcome.js';

/** Words for a CheckResult's `detail`: "timed out" once the signal aborted, else the error. */
export function why(err: unknown, scope: Scope): string {
  return scope.isAborted ? 'timed out' : describeError(err);
}

/** Perl truthiness of a config string: '' and '0' are false. */
export function perlTrue(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0';
}

/** Drops one leading '/' (requests are stored with one, spec §2.3). */
export function withoutSlash(request: string): string {
  return request.startsWith('/') ? request.slice(1) : request;
}

/** `host` as it appears inside a URL or a SIP Via header: IPv6 in brackets. */
export function bracketed(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** The 32 hex digits of an IPv6 address (`::1` -> `000...01`); dotted IPv4 tails allowed. */
export function ipv6Hex(address: string): string {
  let a = address.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b1, b2, b3, b4] = v4.slice(1).map(Number) as [number, number, number, number];
    a = a.slice(0, v4.index) + ((b1 << 8) | b2).toString(16) + ':' + ((b3 << 8) | b4).toString(16);
  }
  const [head = '', tail] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
}

export class AbortedError extends Error {
  constructor() {
    super('check aborted');
  }
}

/**
 * Everything a probe opens is registered here and released by close(), which also
 * runs when the signal aborts. race() settles as soon as the signal aborts, so a probe
 * never waits for a library that ignores cancellation.
 */
export class Scope {
  private readonly cleanups: Array<() => void> = [];
  private closed = false;
  private readonly aborted: Promise<never>;
  private readonly onAbort = (): void => this.close();

  constructor(readonly signal: AbortSignal) {
    this.aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new AbortedError());
      else signal.addEventListener('abort', () => reject(new AbortedError()), { once: true });
    });
    this.aborted.catch(() => undefined);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get isAborted(): boolean {
    return this.signal.aborted;
  }

  defer(cleanup: () => void): void {
    if (this.closed) {
      safely(cleanup);
      return;
    }
    this.cleanups.push(cleanup);
  }

  /** A socket destroyed when the scope closes (errors after that are swallowed). */
  own<T extends { destroy(): unknown; on(event: 'error', l: (e: Error) => void): unknown }>(socket: T): T {
    socket.on('error', () => undefined);
    this.defer(() => socket.destroy());
    return socket;
  }

  race<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    return Promise.race([work, this.aborted]);
  }

  /** Resolves after `ms`, or rejects when the scope aborts first. */
  sleep(ms: number): Promise<void> {
    return this.race(
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.defer(() => clearTimeout(timer));
      }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    for (const cleanup of this.cleanups.splice(0).reverse()) safely(cleanup);
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // cleanup must not throw
  }
}

/** A TCP connection, established or rejected (refused, unreachable, aborted). */
export function connectTcp(scope: Scope, host: string, port: number): Promise<net.Socket> {
  const socket = scope.own(net.connect({ host, port }));
  return scope.race(
    new Promise<net.Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed')));
    }),
  );
}

/** Longest line kept in memory; a longer one is handed out in pieces of this size. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Splits a byte stream into lines the way Perl's readline does (each line keeps its
 * "\n"; the rest at EOF is a last line). Memory is bounded by MAX_LINE_BYTES.
 */
export class LineReader {
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
