// checktype=connect on Node's bare TCP handle (checks/io/bare-connect.ts): the same
// outcomes and texts as the net.Socket path it replaces, a deadline that closes a connect
// the peer never answers, and no handle left behind. Listeners on 127.0.152.x.
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { canConnectBare, connectAndClose } from '../../checks/io/bare-connect.js';
import { setTcpBindingForTest, tcpBinding } from '../../checks/io/tcp-binding.js';
import { probeConnect } from '../../checks/connect.js';
import { havePython, startUnacceptingListener, type Unaccepting } from '../faults/support/hostile-servers.js';
import { startRawServer, type RawServer } from './web-fixtures.js';

const HOST = '127.0.152.1';
const servers: RawServer[] = [];
const hung: Unaccepting[] = [];

afterEach(() => setTcpBindingForTest(undefined));
afterAll(async () => {
  await Promise.all([...servers.map((s) => s.close()), ...hung.map((h) => h.close())]);
});

const endpoint = (host: string, port: number) => ({ host, port, request: '', receive: '' });

/** The details of both paths for the same target (bare first, then net.Socket). */
async function bothPaths(host: string, port: number, signal: () => AbortSignal): Promise<[string | undefined, string | undefined]> {
  setTcpBindingForTest(undefined);
  const bare = await probeConnect(endpoint(host, port), signal());
  setTcpBindingForTest(null);
  const viaNet = await probeConnect(endpoint(host, port), signal());
  setTcpBindingForTest(undefined);
  return [bare.detail, viaNet.detail];
}

/** TCP handles of this process (net.Socket's and the bare ones alike). */
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => /^TCP/.test(r) && !/Server/.test(r)).length;

async function ipv6Loopback(): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

describe('connect on the bare TCP handle', () => {
  it('is available on this Node, for addresses only', () => {
    expect(tcpBinding()).not.toBeNull();
    expect(canConnectBare(HOST, 80)).toBe(true);
    expect(canConnectBare('::1', 80)).toBe(true);
    expect(canConnectBare('localhost', 80)).toBe(false);
    expect(canConnectBare(HOST, 0)).toBe(false);
  });

  it('gives the texts of the net.Socket path: accepted, refused, unreachable', async () => {
    servers.push(await startRawServer(HOST, 15201, () => undefined));
    const signal = () => AbortSignal.timeout(2000);
    expect(await bothPaths(HOST, 15201, signal)).toEqual([`connected to ${HOST}:15201`, `connected to ${HOST}:15201`]);
    expect(await bothPaths(HOST, 15202, signal)).toEqual([
      `connect to ${HOST}:15202: connection refused`,
      `connect to ${HOST}:15202: connection refused`,
    ]);
    // The kernel refuses a TCP connect to a broadcast address at once (no packet leaves).
    const [bare, viaNet] = await bothPaths('255.255.255.255', 15203, signal);
    expect(bare).toMatch(/^connect to 255\.255\.255\.255:15203: connect E[A-Z]+ 255\.255\.255\.255:15203/);
    expect(bare).toBe(viaNet);
  });

  it('connects over IPv6', async (ctx) => {
    if (!(await ipv6Loopback())) ctx.skip();
    servers.push(await startRawServer('::1', 15204, () => undefined));
    const signal = () => AbortSignal.timeout(2000);
    expect(await bothPaths('::1', 15204, signal)).toEqual(['connected to ::1:15204', 'connected to ::1:15204']);
    expect(await bothPaths('::1', 15205, signal)).toEqual([
      'connect to ::1:15205: connection refused',
      'connect to ::1:15205: connection refused',
    ]);
  });

  it('gives up at the abort on a peer that never answers, and leaves no handle behind', async (ctx) => {
    if (!(await havePython())) ctx.skip();
    const h = await startUnacceptingListener('127.0.152.2', 15206);
    hung.push(h);
    const before = tcpHandles();
    const controller = new AbortController();
    const pending = Array.from({ length: 20 }, () => connectAndClose(h.host, h.port, controller.signal));
    await new Promise((r) => setTimeout(r, 300));
    // The count sees the bare handles (else the check below would prove nothing).
    expect(tcpHandles()).toBe(before + 20);
    const t0 = Date.now();
    controller.abort(new Error('check timed out'));
    const reasons = await Promise.all(pending);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(new Set(reasons)).toEqual(new Set(['aborted (check timed out)']));
    // The cancelled connects still complete (ECANCELED) once the handles are closed: harmless.
    await new Promise((r) => setTimeout(r, 200));
    expect(tcpHandles()).toBe(before);
    // An aborted signal is not even connected.
    expect(await connectAndClose(h.host, h.port, controller.signal)).toBe('aborted (check timed out)');
  });

  it('leaves no handle behind after thousands of connects', async () => {
    servers.push(await startRawServer(HOST, 15207, (s) => s.destroy()));
    const before = tcpHandles();
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => connectAndClose(HOST, i % 2 === 0 ? 15207 : 15208, AbortSignal.timeout(5000))),
      );
      expect(results.filter((r) => r === undefined)).toHaveLength(100);
      expect(results.filter((r) => r === 'connection refused')).toHaveLength(100);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(tcpHandles()).toBe(before);
  });
});
