// A TCP connect that is closed as soon as it is accepted (checktype=connect), on Node's
// own TCP handle (tcp-binding.ts): a check that sends nothing needs none of a socket's
// stream machinery. Where the handle cannot be had, or the host is a name, the caller
// falls back to dial().
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { abortText } from './dial.js';
import { tcpBinding, type TcpHandle, type UvRequest } from './tcp-binding.js';

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

interface TaggedRequest extends UvRequest {
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
    const handle = b.newHandle();
    const req: TaggedRequest = b.newConnectReq();
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
