// Test support for the data-service checkers (nntp, ldap, dns, radius, sql, sip,
// simpletcp): a VirtualService fixture, a runner-like `run` that aborts at the
// checker's own timeout, daemon process handling, small hand-written servers and the
// misbehaving peers (silent, trickling, flooding). Addresses: 127.0.20.0 - 127.0.29.255.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VirtualService } from '../../lib/config/model.js';
import type { Checker, CheckResult, CheckTarget } from '../../checks/types.js';
import { realServer, virtualService } from './config-builders.js';

// ---- fixtures ----------------------------------------------------------------------

/** The data checkers' virtual: no service of its own, 2 s timeouts, checked every 5 s. */
export function testVirtual(overrides: Partial<VirtualService> = {}): VirtualService {
  return virtualService({ service: 'none', checkcommand: '', checktimeout: 2, negotiatetimeout: 2, checkinterval: 5, ...overrides });
}

export function testTarget(
  virtual: VirtualService,
  host: string,
  port: number,
  own: { request?: string; receive?: string } = {},
): CheckTarget {
  const real = realServer({ ip: net.isIPv6(host) ? `[${host}]` : host, port, forward: 'gate' });
  return {
    virtual,
    real,
    host,
    port,
    request: own.request ?? virtual.request,
    receive: own.receive ?? virtual.receive,
  };
}

export interface Run extends CheckResult {
  /** Wall-clock time from probe() to its settling. */
  readonly elapsedMs: number;
  /** The runner's limit for this probe: timeoutSeconds() in ms. */
  readonly limitMs: number;
}

/** What the runner does: abort the probe at the checker's timeoutSeconds(). */
export async function run(checker: Checker, target: CheckTarget): Promise<Run> {
  const limitMs = checker.timeoutSeconds(target.virtual) * 1000;
  const signal = AbortSignal.timeout(limitMs);
  const t0 = performance.now();
  const res = await checker.probe(target, signal);
  return { ...res, elapsedMs: performance.now() - t0, limitMs };
}

/** Slack allowed past the runner's abort before a probe counts as late. */
export const LATE_MS = 400;

// ---- binaries and daemons ----------------------------------------------------------

/**
 * The first existing path, or undefined. Absent in CI (process.env.CI set) is a
 * failure: .ci/install.d/31-check-servers-data.sh should have installed it.
 */
export function findBinary(...paths: string[]): string | undefined {
  const found = paths.find((p) => existsSync(p));
  if (!found && process.env.CI) {
    throw new Error(`none of ${paths.join(', ')} exists: .ci/install.d/31-check-servers-data.sh should have installed it`);
  }
  return found;
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ldts-data-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export interface Daemon {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr (the last 64 KiB). */
  output(): string;
  stop(): Promise<void>;
}

export function startDaemon(command: string, args: string[], options: SpawnOptions = {}): Daemon {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-65536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));
  return {
    child,
    output: () => log,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `ready` until it resolves true; fails with the daemon's output after `ms`. */
export async function waitUntil(ready: () => Promise<boolean>, daemon: Daemon, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
      throw new Error(`${what} exited (${daemon.child.exitCode ?? daemon.child.signalCode}):\n${daemon.output()}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${ms} ms:\n${daemon.output()}`);
    await sleep(50);
  }
}

export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- hand-written servers ------------------------------------------------------------

export interface TcpServer {
  readonly port: number;
  /** Every connection's received bytes, and whether the peer half-closed. */
  readonly received: Array<{ data: Buffer; ended: boolean }>;
  close(): Promise<void>;
}

/** A TCP server on host:0 whose connections are handled by `onConnection`. */
export async function tcpServer(
  host: string,
  onConnection: (socket: net.Socket, record: { data: Buffer; ended: boolean }) => void,
): Promise<TcpServer> {
  const sockets = new Set<net.Socket>();
  const received: Array<{ data: Buffer; ended: boolean }> = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    const record = { data: Buffer.alloc(0), ended: false };
    received.push(record);
    socket.on('data', (chunk: Buffer) => {
      record.data = Buffer.concat([record.data, chunk]).subarray(0, 65536);
    });
    socket.on('end', () => {
      record.ended = true;
    });
    onConnection(socket, record);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface UdpServer {
  readonly port: number;
  readonly received: Buffer[];
  close(): Promise<void>;
}

/** A UDP server on host:0 (or `port`); `reply` returns the datagrams to send back. */
export async function udpServer(
  host: string,
  reply: (msg: Buffer, rinfo: dgram.RemoteInfo) => Buffer[] | undefined,
  port = 0,
): Promise<UdpServer> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    for (const out of reply(msg, rinfo) ?? []) socket.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(port, host, () => resolve()));
  return {
    port: socket.address().port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A port on `host` where nothing listens (TCP connects are refused). */
export async function closedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---- misbehaving peers -----------------------------------------------------------------

/** Accepts and never says anything. */
export function silentPeer(host: string): Promise<TcpServer> {
  return tcpServer(host, () => undefined);
}

/** Sends one byte (`byte`) every `everyMs`, forever. */
export function tricklePeer(host: string, byte = 'x', everyMs = 50): Promise<TcpServer> {
  return tcpServer(host, (socket) => {
    const timer = setInterval(() => socket.write(byte), everyMs);
    socket.on('close', () => clearInterval(timer));
  });
}

export const FLOOD_BYTES = 100 * 1024 * 1024;

/** Sends FLOOD_BYTES of `fill` as fast as the client reads them, then closes. */
export function floodPeer(host: string, fill = 'x'): Promise<TcpServer & { sent: () => number }> {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, fill);
  return tcpServer(host, (socket) => {
    let left = FLOOD_BYTES;
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        sent += n;
        if (!socket.write(chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      if (left <= 0) socket.end();
    };
    pump();
  }).then((server) => ({ ...server, sent: () => sent }));
}

/** Peak growth of this process's JS heap + Buffers while `work` runs, in bytes. */
export async function peakMemoryGrowth<T>(work: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, used());
  }, 10);
  try {
    const value = await work();
    peak = Math.max(peak, used());
    return { value, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

// ---- the misbehaving-peer cases, shared by the service tests ------------------------------

/** Heap + Buffer growth allowed while a check faces a 100 MB flood. */
export const FLOOD_MEMORY_LIMIT = 48 * 1024 * 1024;

/**
 * Three cases for a TCP checker whose deadline (timeoutSeconds of `virtual`) is short:
 * a peer that accepts and hangs, one that trickles a byte every 50 ms, and one that
 * sends 100 MB as fast as it is read. Each must be down, end by the runner's deadline
 * (plus LATE_MS), and the flood must not grow memory by more than FLOOD_MEMORY_LIMIT.
 */
export function describeMisbehavingPeers(
  title: string,
  checker: Checker,
  virtual: VirtualService,
  host: string,
  /** Monitor messages a failure may carry (any, when omitted). */
  expectMessages?: readonly string[],
): void {
  describe(`${title}: misbehaving peers on ${host}`, () => {
    let silent: TcpServer;
    let trickle: TcpServer;
    let flood: TcpServer & { sent: () => number };
    beforeAll(async () => {
      silent = await silentPeer(host);
      trickle = await tricklePeer(host);
      flood = await floodPeer(host);
    });
    afterAll(async () => {
      await Promise.all([silent, trickle, flood].map((s) => s?.close()));
    });

    const check = async (port: number): Promise<Run> => {
      const r = await run(checker, testTarget(virtual, host, port));
      expect(r.ok).toBe(false);
      if (expectMessages !== undefined) expect(expectMessages).toContain(r.message);
      expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
      return r;
    };

    it('accepts and never answers: down by the deadline', async () => {
      await check(silent.port);
    });

    it('trickles a byte every 50 ms: down by the deadline', async () => {
      await check(trickle.port);
    });

    it('sends 100 MB: down by the deadline, with bounded memory', async () => {
      const { growth } = await peakMemoryGrowth(() => check(flood.port));
      expect(growth).toBeLessThan(FLOOD_MEMORY_LIMIT);
    });
  });
}

/** True when this host can bind ::1 (IPv6 tests are skipped where it cannot). */
export async function haveIPv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
