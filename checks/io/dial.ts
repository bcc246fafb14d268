// Opening a probe's sockets: TCP (or TLS) connects ended by the AbortSignal, connected
// UDP sockets, and a cap on the bytes read from a socket handed to a client library.
import dgram from 'node:dgram';
import net from 'node:net';
import type tls from 'node:tls';
import { lazyModule } from '../lazy-module.js';
import { isCertificateVerifyError } from '../tls-trust.js';
import type { Scope } from './deadline.js';

// Loaded on the first TLS dial: node:tls (with what it pulls in) is resident memory that a
// daemon of plain connect and http checks never uses.
const tlsModule = lazyModule<typeof tls>('node:tls');

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly signal: AbortSignal;
  /** Present for implicit TLS (https, pops, imaps, ldaps). */
  readonly tls?: tls.ConnectionOptions;
  /** Source address to connect from (default: chosen by the kernel). */
  readonly localAddress?: string;
  /**
   * A connect timer of its own, shorter than the signal, for the checks whose library
   * timeout the spec names apart from the check's (ldap: negotiatetimeout inside a
   * checktimeout alarm). Rejects with "connect timeout".
   */
  readonly connectTimeoutMs?: number;
}

/**
 * The reason a check ends, with the words of the underlying error. Data, not a fault of
 * this program: made without a stack trace (V8 captures one for every Error, and every
 * timed-out or refused check makes one).
 */
export class CheckAbort extends Error {
  readonly kind: 'timeout' | 'refused' | 'closed' | 'overflow' | 'tls' | 'protocol' | 'error';

  constructor(
    message: string,
    kind: CheckAbort['kind'],
    /** The socket error this was made from (its code tells callers what happened). */
    cause?: unknown,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, cause === undefined ? undefined : { cause });
    Error.stackTraceLimit = limit;
    this.kind = kind;
  }
}

/** The words for a check ended by its signal: "timed out", or the abort's reason. */
export function abortText(signal: AbortSignal): string {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  return reason?.name === 'TimeoutError' || reason === undefined ? 'timed out' : `aborted (${reason.message ?? String(reason)})`;
}

export function abortError(signal: AbortSignal): CheckAbort {
  return new CheckAbort(abortText(signal), 'timeout');
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

/** The socket's own error behind a CheckAbort (a timeout or abort has none). */
export function socketCause(err: unknown): unknown {
  return err instanceof CheckAbort && err.cause instanceof Error ? err.cause : err;
}

/** Connects (and for TLS completes the handshake) or rejects with a CheckAbort. */
export function dial(o: DialOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) {
      reject(abortError(o.signal));
      return;
    }
    const local = o.localAddress === undefined ? {} : { localAddress: o.localAddress };
    const socket: net.Socket = o.tls
      ? tlsModule().connect({ ...o.tls, host: o.host, port: o.port, ...local })
      : net.connect({ host: o.host, port: o.port, ...local });
    const timer =
      o.connectTimeoutMs === undefined
        ? undefined
        : setTimeout(() => fail(new CheckAbort('connect timeout', 'timeout')), o.connectTimeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
    };
    const fail = (err: CheckAbort): void => {
      done();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(abortError(o.signal));
    const onError = (err: Error): void => fail(classifySocketError(err));
    const onClose = (): void => fail(new CheckAbort('connection closed', 'closed'));
    o.signal.addEventListener('abort', onAbort, { once: true });
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      done();
      // The caller adds its own handlers; until then an error must not be unhandled.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

/**
 * dial() for a probe with a Scope: the socket is destroyed when the scope closes, and a
 * failure rejects with the socket's own error (its message names the errno).
 */
export async function dialIn(scope: Scope, o: Omit<DialOptions, 'signal'>): Promise<net.Socket> {
  try {
    return scope.own(await dial({ ...o, signal: scope.signal }));
  } catch (err) {
    throw socketCause(err);
  }
}

/** A UDP socket connected to host:port, closed when the scope closes. */
export async function dialUdp(scope: Scope, host: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  scope.defer(() => closeUdp(socket));
  await scope.race(
    new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => resolve());
    }),
  );
  return socket;
}

export function closeUdp(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/**
 * Counts what the peer sends on a socket handed to a client library and destroys the
 * socket (with an error the library reports) once `maxBytes` is passed or `inspect`
 * objects to a chunk. Call it before the library adds its own 'data' listener: a chunk
 * that breaks a limit then never reaches the library.
 */
export function capReads<S extends net.Socket>(socket: S, maxBytes: number, inspect?: (chunk: Buffer) => string | undefined): S {
  let seen = 0;
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    const bad = seen > maxBytes ? `more than ${maxBytes} bytes received` : inspect?.(chunk);
    if (bad) socket.destroy(new Error(bad));
  });
  return socket;
}
