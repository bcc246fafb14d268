// Config-model fixtures and misbehaving peers for the checks' tests. Not a test file.
import net from 'node:net';
import type { RealServer, VirtualService } from '../../lib/config/model.js';
import { buildTarget } from '../../checks/target.js';
import { realServer, virtualService } from '../support/config-builders.js';
import type { CheckTarget } from '../../checks/types.js';

export function makeVirtual(over: Partial<VirtualService> = {}): VirtualService {
  return virtualService({ id: 'tcp:10.0.0.9:80', name: '10.0.0.9:80', ip: '10.0.0.9', ...over });
}

export const makeReal = realServer;

export function makeTarget(v: Partial<VirtualService>, r: Partial<RealServer>): CheckTarget {
  return buildTarget(makeVirtual(v), makeReal(r));
}

export interface RawServer {
  /** Bytes the server managed to hand to the kernel, over all connections. */
  bytesWritten(): number;
  /** Lines received, over all connections. */
  readonly received: string[];
  close(): Promise<void>;
}

/** A TCP server whose connections are handled by `onConnection` (a misbehaving peer). */
export async function startRawServer(
  host: string,
  port: number,
  onConnection: (socket: net.Socket, received: string[]) => void,
): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  let written = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        received.push(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
    });
    socket.on('close', () => {
      written += socket.bytesWritten;
      sockets.delete(socket);
    });
    onConnection(socket, received);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    bytesWritten: () => written + [...sockets].reduce((n, s) => n + s.bytesWritten, 0),
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `total` bytes of `fill` as fast as the peer reads them (a flood). */
export function flood(socket: net.Socket, head: string, total: number, fill = 'x'): void {
  socket.write(head);
  const chunk = Buffer.alloc(64 * 1024, fill);
  let sent = 0;
  const pump = (): void => {
    while (sent < total && !socket.destroyed) {
      sent += chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** Writes one byte every `ms` forever (a trickle). */
export function trickle(socket: net.Socket, head: string, ms = 100): void {
  socket.write(head);
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write('x');
  }, ms);
  socket.on('close', () => clearInterval(timer));
}

/** Time a probe; returns [result, elapsed ms]. */
export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}
