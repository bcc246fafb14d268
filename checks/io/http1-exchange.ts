// One HTTP/1.x request and its response on a TCP handle of its own (tcp-handle.ts):
// connect, write the request, read the response (http1-response.ts), close. Ended by the
// check's signal at any point. Every outcome, failures included, is a plain object: a
// health check that fails is routine, and an Error would capture a stack trace each time.
import { openTcp } from './tcp-handle.js';
import { Http1ResponseReader, type Http1Limits } from './http1-response.js';

export interface Http1Request {
  /** An IP address (no brackets). */
  readonly host: string;
  readonly port: number;
  readonly method: 'GET' | 'HEAD';
  /** The request's bytes (latin1): request line, header fields, empty line. */
  readonly bytes: string;
}

export type Http1Result =
  | {
      readonly ok: true;
      readonly status: number;
      readonly reason: string;
      readonly location: string | undefined;
      readonly body: Buffer;
      readonly truncated: boolean;
    }
  | {
      readonly ok: false;
      /**
       * timeout: the signal ended it; errno: a socket error before a response (`text` is
       * the errno name); closed: the peer closed before a response; protocol: the
       * response is not usable HTTP (`text` says why).
       */
      readonly kind: 'timeout' | 'errno' | 'closed' | 'protocol';
      readonly text: string;
      /** errno: the call that failed. */
      readonly syscall?: 'connect' | 'write' | 'read';
      /** The head had been read (a timeout while reading the body). */
      readonly inBody: boolean;
    };

/**
 * Runs the exchange; undefined when the TCP handle is not available here or `host` is not
 * an IP address (the caller then takes its portable path).
 */
export function exchangeHttp1(request: Http1Request, signal: AbortSignal, limits: Http1Limits): Promise<Http1Result> | undefined {
  if (signal.aborted) return Promise.resolve({ ok: false, kind: 'timeout', text: 'timed out', inBody: false });
  let settle!: (result: Http1Result) => void;
  const promise = new Promise<Http1Result>((resolve) => {
    settle = resolve;
  });
  const reader = new Http1ResponseReader(request.method, limits);
  let settled = false;
  const finish = (result: Http1Result): void => {
    if (settled) return;
    settled = true;
    signal.removeEventListener('abort', onAbort);
    connection?.close();
    settle(result);
  };
  const failure = (kind: 'timeout' | 'errno' | 'closed' | 'protocol', text: string, syscall?: 'connect' | 'write' | 'read'): void =>
    finish({ ok: false, kind, text, inBody: reader.headRead, ...(syscall === undefined ? {} : { syscall }) });
  const response = (): void =>
    finish({
      ok: true,
      status: reader.status,
      reason: reader.reason,
      location: reader.location,
      body: reader.body(),
      truncated: reader.truncated,
    });
  const onAbort = (): void => failure('timeout', 'timed out');
  const connection = openTcp(request.host, request.port, {
    onConnect: () => connection?.write(request.bytes),
    onData: (chunk) => {
      const step = reader.feed(chunk);
      if (step === 'done') response();
      else if (step !== 'more') failure('protocol', step.error);
    },
    onEnd: () => {
      if (reader.end() === 'done') response();
      else failure('closed', 'other side closed');
    },
    onError: (code, syscall) => {
      // A body cut short by a reset keeps what arrived, as an EOF does.
      if (reader.headRead && reader.end() === 'done') response();
      else failure('errno', code, syscall);
    },
  });
  if (connection === undefined) return undefined;
  signal.addEventListener('abort', onAbort);
  return promise;
}
