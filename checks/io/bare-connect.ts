// A TCP connect that is closed as soon as it is accepted (checktype=connect), made on
// Node's own TCP handle instead of a net.Socket. A check that sends nothing needs none
// of a socket's stream machinery (readable and writable state, event emitter, the
// buffers and timers behind them), and at thousands of reals that machinery, and the
// garbage it leaves per connect, costs more CPU than the connect itself: the side-by-side
// bench against keepalived (bench/RESULTS.md) measured both. The handle is the one
// net.Socket wraps; where it cannot be had (a Node without it, the permission model,
// a host name instead of an address) the caller falls back to dial().
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { abortText } from './dial.js';

interface ConnectRequest {
  oncomplete: (status: number) => void;
}

interface TcpHandle {
  connect(req: ConnectRequest, address: string, port: number): number;
  connect6(req: ConnectRequest, address: string, port: number): number;
  close(): void;
  getsockname(out: { address?: string; port?: number }): number;
}

interface TcpBinding {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: new () => ConnectRequest;
  readonly constants: { readonly SOCKET: number };
}

let binding: TcpBinding | null | undefined;

function pendingDeprecation(): boolean {
  // process.binding() warns under --pending-deprecation: the daemon's log stays clean.
  return (
    process.execArgv.includes('--pending-deprecation') ||
    process.env.NODE_PENDING_DEPRECATION === '1' ||
    /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? '')
  );
}

/** Node's tcp_wrap binding when it has the shape used here; null otherwise. */
export function tcpBinding(): TcpBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  if (pendingDeprecation()) return binding;
  try {
    const get = (process as unknown as { binding?: (name: string) => unknown }).binding;
    const b = typeof get === 'function' ? (get.call(process, 'tcp_wrap') as Partial<TcpBinding> | undefined) : undefined;
    const proto = b?.TCP?.prototype as Partial<TcpHandle> | undefined;
    if (
      typeof b?.TCPConnectWrap === 'function' &&
      typeof b.constants?.SOCKET === 'number' &&
      typeof proto?.connect === 'function' &&
      typeof proto.connect6 === 'function' &&
      typeof proto.close === 'function' &&
      typeof proto.getsockname === 'function'
    ) {
      binding = b as TcpBinding;
    }
  } catch {
    // the permission model, or a Node that no longer lends the binding
  }
  return binding;
}

/** For tests: forget the binding (undefined: look again) or pretend it is missing (null). */
export function setTcpBindingForTest(b: null | undefined): void {
  binding = b;
}

/** Whether connectAndClose() can take `host`: an address (no name lookup) and a valid port. */
export function canConnectBare(host: string, port: number): boolean {
  return port > 0 && port < 65536 && isIP(host) !== 0 && tcpBinding() !== null;
}

/**
 * The connects in flight on one signal. The runner shares one signal among the checks
 * whose deadlines fall together, and starts them together: one abort listener per signal
 * closes them all, and a connect joins and leaves a Set instead of the signal's listener
 * list. The listener goes when the last of them ends (the signal outlives the checks and
 * must not keep anything of them).
 */
class SignalConnects {
  readonly pending = new Set<BareConnect>();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    inFlight.delete(this.signal);
    const why = abortText(this.signal);
    for (const c of this.pending) c.finish(why);
  };

  leave(c: BareConnect): void {
    this.pending.delete(c);
    if (this.pending.size === 0 && inFlight.get(this.signal) === this) {
      inFlight.delete(this.signal);
      this.signal.removeEventListener('abort', this.onAbort);
    }
  }
}

const inFlight = new WeakMap<AbortSignal, SignalConnects>();

function connectsOn(signal: AbortSignal): SignalConnects {
  let on = inFlight.get(signal);
  if (on === undefined) inFlight.set(signal, (on = new SignalConnects(signal)));
  return on;
}

interface TaggedRequest extends ConnectRequest {
  check?: BareConnect;
}

/** The completion of every bare connect: `this` is the request (as Node calls it). */
function completed(this: TaggedRequest, status: number): void {
  const c = this.check;
  if (c !== undefined) c.finish(status === 0 ? undefined : reason(status, c.host, c.port));
}

class BareConnect {
  private open = true;

  constructor(
    private readonly handle: TcpHandle,
    readonly host: string,
    readonly port: number,
    private readonly on: SignalConnects,
    private readonly resolve: (why: string | undefined) => void,
  ) {}

  finish(why: string | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.on.leave(this);
    // Closing a handle whose connect is pending cancels it: its oncomplete still comes
    // (ECANCELED), and finds the check already finished.
    this.handle.close();
    this.resolve(why);
  }
}

/**
 * Connects to host:port and closes the connection at once. Resolves with undefined when
 * the connection was accepted, else with the reason in the words dial() and
 * classifySocketError() use ("connection refused", "connect EHOSTUNREACH 10.0.0.9:80
 * (EHOSTUNREACH)", the abort's text). Call only when canConnectBare() said yes.
 */
export function connectAndClose(host: string, port: number, signal: AbortSignal): Promise<string | undefined> {
  if (signal.aborted) return Promise.resolve(abortText(signal));
  const b = tcpBinding();
  if (b === null) return Promise.reject(new Error('no bare TCP handle in this Node'));
  return new Promise((resolve) => {
    const handle = new b.TCP(b.constants.SOCKET);
    const req: TaggedRequest = new b.TCPConnectWrap();
    req.oncomplete = completed;
    const err = host.includes(':') ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    if (err !== 0) {
      // net.Socket names the local end in an error the connect call itself returned.
      const local: { address?: string; port?: number } = {};
      const named = handle.getsockname(local) === 0 && local.address !== undefined;
      handle.close();
      resolve(reason(err, host, port, named ? `${local.address}:${local.port}` : undefined));
      return;
    }
    const on = connectsOn(signal);
    const c = new BareConnect(handle, host, port, on, resolve);
    req.check = c;
    on.pending.add(c);
  });
}

/** The text classifySocketError() gives for the error net.Socket builds from `status`. */
function reason(status: number, host: string, port: number, local?: string): string {
  const code = getSystemErrorName(status);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset (${code})`;
  return `connect ${code} ${host}:${port}${local === undefined ? '' : ` - Local (${local})`} (${code})`;
}
