// A TCP connect that is closed as soon as it is accepted (checktype=connect), on Node's
// own TCP handle (tcp-binding.ts): a check that sends nothing needs none of a socket's
// stream machinery. Where the handle cannot be had, or the host is a name, the caller
// falls back to dial().
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { abortText } from './dial.js';
import { SignalGroups, type SignalGroup, type SignalMember } from './signal-group.js';
import { tcpBinding, type TcpHandle, type UvRequest } from './tcp-binding.js';

/** Whether connectAndClose() can take `host`: an address (no name lookup) and a valid port. */
export function canConnectBare(host: string, port: number): boolean {
  return port > 0 && port < 65536 && isIP(host) !== 0 && tcpBinding() !== null;
}

/** The bare connects in flight, grouped by deadline signal. */
const connects = new SignalGroups<BareConnect>();

interface TaggedRequest extends UvRequest {
  check?: BareConnect;
}

/** The completion of every bare connect: `this` is the request (as Node calls it). */
function completed(this: TaggedRequest, status: number): void {
  const c = this.check;
  if (c !== undefined) c.finish(status === 0 ? undefined : reason(status, c.host, c.port));
}

class BareConnect implements SignalMember {
  private open = true;

  constructor(
    private readonly handle: TcpHandle,
    readonly host: string,
    readonly port: number,
    private readonly resolve: (why: string | undefined) => void,
  ) {}

  on: SignalGroup<BareConnect> | undefined;

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
    const c = new BareConnect(handle, host, port, resolve);
    req.check = c;
    c.on = connects.join(signal, c);
  });
}

/** The text classifySocketError() gives for the error net.Socket builds from `status`. */
function reason(status: number, host: string, port: number, local?: string): string {
  const code = getSystemErrorName(status);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset (${code})`;
  return `connect ${code} ${host}:${port}${local === undefined ? '' : ` - Local (${local})`} (${code})`;
}
