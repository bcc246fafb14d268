// A TCP connection on Node's own handle (tcp-binding.ts) for a probe that exchanges
// bytes: connect, one write, read to the end, close, each reported through callbacks.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { tcpBinding } from './tcp-binding.js';

const UV_EOF = -4095;

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

/**
 * Connects to `host` (an IP address) and `port`. Returns undefined when the handle is
 * not available or `host` is not an IP address (the caller then uses its portable path).
 * A connect that fails at once reports through onError on the next tick, like a late one.
 */
export function openTcp(host: string, port: number, events: TcpEvents): TcpConnection | undefined {
  const family = net.isIP(host);
  const b = family === 0 ? null : tcpBinding();
  if (b === null) return undefined;
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
