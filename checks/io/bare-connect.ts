// A TCP connect that is closed as soon as it is accepted (checktype=connect), on Node's
// own TCP handle (tcp-binding.ts): a check that sends nothing needs none of a socket's
// stream machinery. Where the handle cannot be had, or the host is a name, the caller
// falls back to dial().
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { abortText } from './dial.js';
import { SignalGroups, type SignalGroup, type SignalMember } from './signal-group.js';
import { tcpBinding, type TcpHandle, type UvRequest } from './tcp-binding.js';

/**
 * Whether connectAndClose() can take `host`: an address (no name lookup) and a valid port.
 * `family`: isIP(host), when the caller knows it already.
 */
export function canConnectBare(host: string, port: number, family: number = isIP(host)): boolean {
  return port > 0 && port < 65536 && family !== 0 && tcpBinding() !== null;
}

/** A bare connect in flight, as its request's completion and its deadline's group see it. */
interface PendingConnect extends SignalMember {
  readonly host: string;
  readonly port: number;
  finish(why: string | undefined): void;
}

/** The bare connects in flight, grouped by deadline signal. */
const connects = new SignalGroups<PendingConnect>();

interface TaggedRequest extends UvRequest {
  check?: PendingConnect;
}

/** The completion of every bare connect: `this` is the request (as Node calls it). */
function completed(this: TaggedRequest, status: number): void {
  const c = this.check;
  if (c !== undefined) c.finish(status === 0 ? undefined : reason(status, c.host, c.port));
}

/** What a connect's caller makes of its end: a shared function, not a closure per connect. */
export type ConnectAnswer<C, T> = (why: string | undefined, host: string, port: number, context: C) => T;

/** Where a connect's answer goes, once: a check of the runner's, or a promise's resolvers. */
export interface ConnectSink<T> {
  settle(answer: T): void;
  failed(err: unknown): void;
}

class BareConnect<C, T> implements PendingConnect {
  private open = true;

  constructor(
    private readonly handle: TcpHandle,
    readonly host: string,
    readonly port: number,
    private readonly answer: ConnectAnswer<C, T>,
    private readonly context: C,
    private readonly sink: ConnectSink<T>,
  ) {}

  on: SignalGroup<PendingConnect> | undefined;

  aborted(signal: AbortSignal): void {
    this.finish(abortText(signal));
  }

  finish(why: string | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.on?.leave(this);
    // Closing a handle whose connect is pending cancels it: its oncomplete still comes
    // (ECANCELED), and finds the check already finished.
    this.handle.close();
    deliver(this.sink, this.answer, why, this.host, this.port, this.context);
  }
}

/**
 * The answer to the sink. It runs in libuv's and the abort's callbacks: an answer (or a
 * sink) that throws there would be an uncaught exception, not this check's failure.
 */
function deliver<C, T>(
  sink: ConnectSink<T>,
  answer: ConnectAnswer<C, T>,
  why: string | undefined,
  host: string,
  port: number,
  context: C,
): void {
  try {
    sink.settle(answer(why, host, port, context));
  } catch (err) {
    sink.failed(err);
  }
}

/**
 * Connects to host:port and closes the connection at once. Resolves with undefined when
 * the connection was accepted, else with the reason in the words dial() and
 * classifySocketError() use ("connection refused", "connect EHOSTUNREACH 10.0.0.9:80
 * (EHOSTUNREACH)", the abort's text). Call only when canConnectBare() said yes.
 */
export function connectAndClose(host: string, port: number, signal: AbortSignal): Promise<string | undefined> {
  return connectBare(host, port, signal, whyItself, undefined);
}

const whyItself = (why: string | undefined): string | undefined => why;

/**
 * connectAndClose(), resolving with `answer(why, host, port, context)`: a caller that turns
 * the reason into its own result adds no promise of its own.
 */
export function connectBare<C, T>(host: string, port: number, signal: AbortSignal, answer: ConnectAnswer<C, T>, context: C): Promise<T> {
  return new Promise((resolve, reject) => startBareConnect(host, port, signal, answer, context, { settle: resolve, failed: reject }));
}

/**
 * connectBare() reporting to `sink`, without a promise (this runs for every real every
 * interval). The answer may come before it returns: a connect refused at once, a signal
 * already aborted.
 */
export function startBareConnect<C, T>(
  host: string,
  port: number,
  signal: AbortSignal,
  answer: ConnectAnswer<C, T>,
  context: C,
  sink: ConnectSink<T>,
): void {
  if (signal.aborted) {
    deliver(sink, answer, abortText(signal), host, port, context);
    return;
  }
  const b = tcpBinding();
  if (b === null) {
    sink.failed(new Error('no bare TCP handle in this Node'));
    return;
  }
  const handle = b.newHandle();
  const req: TaggedRequest = b.newConnectReq();
  req.oncomplete = completed;
  const err = host.includes(':') ? handle.connect6(req, host, port) : handle.connect(req, host, port);
  if (err !== 0) {
    // net.Socket names the local end in an error the connect call itself returned.
    const local: { address?: string; port?: number } = {};
    const named = handle.getsockname(local) === 0 && local.address !== undefined;
    handle.close();
    deliver(sink, answer, reason(err, host, port, named ? `${local.address}:${local.port}` : undefined), host, port, context);
    return;
  }
  const c = new BareConnect(handle, host, port, answer, context, sink);
  req.check = c;
  c.on = connects.join(signal, c);
}

/** The text classifySocketError() gives for the error net.Socket builds from `status`. */
function reason(status: number, host: string, port: number, local?: string): string {
  const code = getSystemErrorName(status);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset (${code})`;
  return `connect ${code} ${host}:${port}${local === undefined ? '' : ` - Local (${local})`} (${code})`;
}
