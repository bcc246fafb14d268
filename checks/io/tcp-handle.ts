// A TCP connection on Node's own handle (tcp-binding.ts) for a probe that exchanges
// bytes: connect, one write, read to the end, close, each reported through callbacks.
// It runs for every real every interval: the handle's and the requests' callbacks are
// shared functions that find their connection through `this` (Node calls them on the
// handle or the request), not closures made per connection.
// Reading starts with the connect: libuv then changes the socket's epoll registration
// once when the connect completes, where starting it afterwards costs a registration
// the kernel refuses and another that works. Reads land in one buffer shared by every
// connection (Node's user-buffer reads), from which a chunk is copied before the next
// read can come: Node would otherwise allocate 64 KiB, shrink it and wrap it in an
// ArrayBuffer for each read.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { tcpBinding, type TcpBinding, type TcpHandle, type UvRequest } from './tcp-binding.js';

const UV_EOF = -4095;
const READ_BUFFER_BYTES = 65536;

let readBuffer: Buffer | undefined;

/** Has `handle` read into the shared buffer, where it can. */
function readIntoSharedBuffer(handle: TcpHandle): void {
  if (typeof handle.useUserBuffer !== 'function') return;
  readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  handle.useUserBuffer(readBuffer);
}

function copyOut(from: Buffer, bytes: number): Buffer {
  const chunk = Buffer.allocUnsafe(bytes);
  from.copy(chunk, 0, 0, bytes);
  return chunk;
}

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

function errnoName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `errno ${status}`;
  }
}

interface Tagged {
  conn?: Connection;
}

type TaggedHandle = TcpHandle & Tagged;
type TaggedRequest = UvRequest & Tagged;

// Returns nothing: with a user buffer, what onread returns becomes the next read's buffer.
function onRead(this: TaggedHandle, buffer: ArrayBuffer | undefined): undefined {
  this.conn?.read(buffer);
  return undefined;
}

function onConnected(this: TaggedRequest, status: number): void {
  this.conn?.connected(status);
}

function onWritten(this: TaggedRequest, status: number): void {
  if (status < 0) this.conn?.fail(status, 'write');
}

function failLater(conn: Connection, status: number, syscall: 'connect' | 'write' | 'read'): void {
  conn.fail(status, syscall);
}

class Connection implements TcpConnection {
  private closed = false;

  constructor(
    private readonly b: TcpBinding,
    private readonly handle: TaggedHandle,
    private readonly events: TcpEvents,
  ) {}

  read(buffer: ArrayBuffer | undefined): void {
    if (this.closed) return;
    const b = this.b;
    const nread = b.state[b.readBytes] as number;
    if (nread > 0) {
      if (buffer !== undefined) this.events.onData(Buffer.from(buffer, b.state[b.offset] as number, nread));
      else if (readBuffer !== undefined) this.events.onData(copyOut(readBuffer, nread));
    } else if (nread === UV_EOF) {
      this.events.onEnd();
    } else if (nread < 0) {
      this.fail(nread, 'read');
    }
  }

  connected(status: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.fail(status, 'connect');
      return;
    }
    this.events.onConnect();
  }

  fail(status: number, syscall: 'connect' | 'write' | 'read'): void {
    if (this.closed) return;
    this.close();
    this.events.onError(errnoName(status), syscall);
  }

  write(latin1: string): void {
    if (this.closed) return;
    const w: TaggedRequest = this.b.newWriteReq();
    w.handle = this.handle;
    w.conn = this;
    w.oncomplete = onWritten;
    const status = this.handle.writeLatin1String(w, latin1);
    if (status < 0) process.nextTick(failLater, this, status, 'write');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }
}

/**
 * Connects to `host` (an IP address) and `port`. Returns undefined when the handle is
 * not available or `host` is not an IP address (the caller then uses its portable path).
 * A connect that fails at once reports through onError on the next tick, like a late one.
 * `family`: net.isIP(host), when the caller knows it already.
 */
export function openTcp(host: string, port: number, events: TcpEvents, family: number = net.isIP(host)): TcpConnection | undefined {
  const b = family === 0 ? null : tcpBinding();
  if (b === null) return undefined;
  const handle: TaggedHandle = b.newHandle();
  readIntoSharedBuffer(handle);
  const conn = new Connection(b, handle, events);
  handle.conn = conn;
  handle.onread = onRead;
  const req: TaggedRequest = b.newConnectReq();
  req.conn = conn;
  req.oncomplete = onConnected;
  const err = family === 6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
  if (err < 0) {
    process.nextTick(failLater, conn, err, 'connect');
    return conn;
  }
  const readErr = handle.readStart();
  if (readErr < 0) process.nextTick(failLater, conn, readErr, 'read');
  return conn;
}
