// A TCP connection on Node's own libuv handle (the one under net.Socket), for the probes
// that run thousands of times a minute and need nothing of a stream: connect, one write,
// read to the end, close. net.Socket builds a Readable and a Writable with their state,
// buffering and events per connection, which costs more CPU than the exchange itself.
//
// The handle comes from process.binding('tcp_wrap'), which Node keeps for compatibility
// (DEP0111, documentation-only). When a Node no longer offers it, tcpHandleAvailable()
// says false and the callers use their portable path.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** What the connection reports; each callback after the connection is closed never comes. */
export interface TcpEvents {
  onConnect(): void;
  /** A chunk read (a view on a buffer of its own: it may be kept). */
  onData(chunk: Buffer): void;
  /** The peer ended its side (EOF). */
  onEnd(): void;
  /** The errno name of a failed connect, write or read ("ECONNREFUSED", "ECONNRESET", ...). */
  onError(code: string, syscall: 'connect' | 'write' | 'read'): void;
}

export interface TcpConnection {
  /** Writes a string of bytes 0-255 (latin1); a failure comes through onError. */
  write(latin1: string): void;
  /** Closes the handle (idempotent); no callback comes after it. */
  close(): void;
}

interface Req {
  oncomplete: (status: number) => void;
  handle?: unknown;
}

interface Handle {
  onread: (buffer: ArrayBuffer | undefined) => void;
  connect(req: Req, address: string, port: number): number;
  connect6(req: Req, address: string, port: number): number;
  writeLatin1String(req: Req, text: string): number;
  readStart(): number;
  close(): void;
}

interface Binding {
  readonly newHandle: () => Handle;
  readonly newConnectReq: () => Req;
  readonly newWriteReq: () => Req;
  readonly state: Int32Array;
  readonly readBytes: number;
  readonly offset: number;
}

const UV_EOF = -4095;

let binding: Binding | null | undefined;

function load(): Binding | null {
  try {
    const get = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = get('tcp_wrap') as { TCP?: new (kind: number) => Handle; TCPConnectWrap?: new () => Req; constants?: { SOCKET?: number } };
    const stream = get('stream_wrap') as {
      WriteWrap?: new () => Req;
      streamBaseState?: Int32Array;
      kReadBytesOrError?: number;
      kArrayBufferOffset?: number;
    };
    const { TCP, TCPConnectWrap, constants } = tcp;
    const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = stream;
    if (
      typeof TCP !== 'function' ||
      typeof TCPConnectWrap !== 'function' ||
      typeof WriteWrap !== 'function' ||
      typeof constants?.SOCKET !== 'number' ||
      !(streamBaseState instanceof Int32Array) ||
      typeof kReadBytesOrError !== 'number' ||
      typeof kArrayBufferOffset !== 'number'
    ) {
      return null;
    }
    const socketKind = constants.SOCKET;
    return {
      newHandle: () => new TCP(socketKind),
      newConnectReq: () => new TCPConnectWrap(),
      newWriteReq: () => new WriteWrap(),
      state: streamBaseState,
      readBytes: kReadBytesOrError,
      offset: kArrayBufferOffset,
    };
  } catch {
    return null;
  }
}

/** True when this Node offers the TCP handle (checked once). */
export function tcpHandleAvailable(): boolean {
  if (binding === undefined) binding = load();
  return binding !== null;
}

function errnoName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `errno ${status}`;
  }
}

/**
 * Connects to `host` (an IP address) and `port`. Returns undefined when the handle is
 * not available or `host` is not an IP address (the caller then uses its portable path).
 * A connect that fails at once reports through onError on the next tick, like a late one.
 */
export function openTcp(host: string, port: number, events: TcpEvents): TcpConnection | undefined {
  const family = net.isIP(host);
  if (family === 0 || !tcpHandleAvailable()) return undefined;
  const b = binding as Binding;
  const handle = b.newHandle();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    handle.close();
  };
  const fail = (status: number, syscall: 'connect' | 'write' | 'read'): void => {
    if (closed) return;
    close();
    events.onError(errnoName(status), syscall);
  };
  handle.onread = (buffer) => {
    if (closed) return;
    const nread = b.state[b.readBytes] as number;
    if (nread > 0 && buffer !== undefined) {
      events.onData(Buffer.from(buffer, b.state[b.offset] as number, nread));
    } else if (nread === UV_EOF) {
      events.onEnd();
    } else if (nread < 0) {
      fail(nread, 'read');
    }
  };
  const req = b.newConnectReq();
  req.oncomplete = (status) => {
    if (closed) return;
    if (status < 0) {
      fail(status, 'connect');
      return;
    }
    const err = handle.readStart();
    if (err < 0) {
      fail(err, 'read');
      return;
    }
    events.onConnect();
  };
  const err = family === 6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
  if (err < 0) process.nextTick(fail, err, 'connect');
  return {
    write(latin1) {
      if (closed) return;
      const w = b.newWriteReq();
      w.handle = handle;
      w.oncomplete = (status) => {
        if (status < 0) fail(status, 'write');
      };
      const status = handle.writeLatin1String(w, latin1);
      if (status < 0) process.nextTick(fail, status, 'write');
    },
    close,
  };
}
