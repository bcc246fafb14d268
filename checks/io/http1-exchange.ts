// One HTTP/1.x request and its response on a TCP handle of its own (tcp-handle.ts):
// connect, write the request, read the response (http1-response.ts), close. Ended by the
// check's signal at any point. Every outcome, failures included, is a plain object: a
// health check that fails is routine, and an Error would capture a stack trace each time.
// One object per exchange, no closures: this runs for every real every interval.
import { openTcp, type TcpConnection, type TcpEvents } from './tcp-handle.js';
import { Http1ResponseReader, type Http1Limits } from './http1-response.js';
import { SignalGroups, type SignalGroup, type SignalMember } from './signal-group.js';

export interface Http1Request {
  /** An IP address (no brackets). */
  readonly host: string;
  readonly port: number;
  readonly method: 'GET' | 'HEAD';
  /** The request's bytes (latin1): request line, header fields, empty line. */
  readonly bytes: string;
  /** net.isIP(host), when known already. */
  readonly family?: number;
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

type FailureKind = 'timeout' | 'errno' | 'closed' | 'protocol';

/** Where an exchange's result goes, once: maybe before startHttp1() has returned. */
export interface Http1Answer {
  answered(result: Http1Result): void;
}

/** The exchanges in flight, grouped by deadline signal. */
const exchanges = new SignalGroups<Exchange>();

class Exchange implements TcpEvents, SignalMember {
  private readonly reader: Http1ResponseReader;
  private settled = false;
  connection: TcpConnection | undefined;
  on: SignalGroup<Exchange> | undefined;

  constructor(
    private readonly request: Http1Request,
    limits: Http1Limits,
    private readonly to: Http1Answer,
  ) {
    this.reader = new Http1ResponseReader(request.method, limits);
  }

  aborted(): void {
    this.failure('timeout', 'timed out');
  }

  onConnect(): void {
    this.connection?.write(this.request.bytes);
  }

  onData(chunk: Buffer): void {
    const step = this.reader.feed(chunk);
    if (step === 'done') this.response();
    else if (step !== 'more') this.failure('protocol', step.error);
  }

  onEnd(): void {
    if (this.reader.end() === 'done') this.response();
    else this.failure('closed', 'other side closed');
  }

  onError(code: string, syscall: 'connect' | 'write' | 'read'): void {
    // A body cut short by a reset keeps what arrived, as an EOF does.
    if (this.reader.headRead && this.reader.end() === 'done') this.response();
    else this.failure('errno', code, syscall);
  }

  failure(kind: FailureKind, text: string, syscall?: 'connect' | 'write' | 'read'): void {
    this.finish({ ok: false, kind, text, inBody: this.reader.headRead, ...(syscall === undefined ? {} : { syscall }) });
  }

  private response(): void {
    const r = this.reader;
    this.finish({ ok: true, status: r.status, reason: r.reason, location: r.location, body: r.body(), truncated: r.truncated });
  }

  private finish(result: Http1Result): void {
    if (this.settled) return;
    this.settled = true;
    this.on?.leave(this);
    this.connection?.close();
    this.to.answered(result);
  }
}

const TIMED_OUT_AT_ONCE: Http1Result = Object.freeze({ ok: false, kind: 'timeout', text: 'timed out', inBody: false });

/**
 * Runs the exchange, its result to `to`; false when the TCP handle is not available here
 * or `host` is not an IP address (the caller then takes its portable path).
 */
export function startHttp1(request: Http1Request, signal: AbortSignal, limits: Http1Limits, to: Http1Answer): boolean {
  if (signal.aborted) {
    to.answered(TIMED_OUT_AT_ONCE);
    return true;
  }
  const x = new Exchange(request, limits, to);
  const connection = openTcp(request.host, request.port, x, request.family);
  if (connection === undefined) return false;
  x.connection = connection;
  x.on = exchanges.join(signal, x);
  return true;
}

/** startHttp1() as a promise; undefined where startHttp1() gives false. */
export function exchangeHttp1(request: Http1Request, signal: AbortSignal, limits: Http1Limits): Promise<Http1Result> | undefined {
  let answered!: (result: Http1Result) => void;
  const promise = new Promise<Http1Result>((resolve) => {
    answered = resolve;
  });
  return startHttp1(request, signal, limits, { answered }) ? promise : undefined;
}
