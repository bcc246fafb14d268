// checks/io: the one deadline helper, dialing, and the bounded line readers, on their own
// (the checkers' tests exercise them against real and misbehaving servers).
import { getEventListeners } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, orAborted, raceAbort, Scope } from '../../checks/io/deadline.js';
import { CheckAbort, dial, dialIn } from '../../checks/io/dial.js';
import { LineConnection } from '../../checks/io/lines.js';
import { bounded } from '../../lib/sync/ssh-session.js';
import { startRawServer, type RawServer } from './web-fixtures.js';

const HOST = '127.0.143.1';
const servers: RawServer[] = [];
let silentPort = 0;
let floodPort = 0;

beforeAll(async () => {
  servers.push(await startRawServer(HOST, 14301, () => undefined));
  silentPort = 14301;
  servers.push(await startRawServer(HOST, 14302, (s) => s.write(Buffer.alloc(300 * 1024, 'x'))));
  floodPort = 14302;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const never = new Promise<never>(() => undefined);

describe('deadline', () => {
  it("raceAbort: the work's outcome, and no listener left behind", async () => {
    const c = new AbortController();
    expect(await raceAbort(Promise.resolve(1), c.signal, () => 'x')).toBe(1);
    await expect(raceAbort(Promise.reject(new Error('e')), c.signal, () => 'x')).rejects.toThrow('e');
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
  });

  it("raceAbort: onAbort's outcome when the signal aborts, told whether it had already", async () => {
    const c = new AbortController();
    const racing = raceAbort(never, c.signal, (already) => (already ? 'before' : 'during'));
    c.abort();
    expect(await racing).toBe('during');
    expect(await raceAbort(never, c.signal, (already) => (already ? 'before' : 'during'))).toBe('before');
    expect(await orAborted(never, c.signal)).toBe('aborted');
    await expect(
      raceAbort(never, c.signal, () => {
        throw new Error('late');
      }),
    ).rejects.toThrow('late');
  });

  it('Scope: race rejects with AbortedError at the abort, and cleanups run once', async () => {
    const c = new AbortController();
    const scope = new Scope(c.signal);
    let cleaned = 0;
    scope.defer(() => cleaned++);
    const racing = scope.race(never);
    c.abort();
    await expect(racing).rejects.toBeInstanceOf(AbortedError);
    scope.close();
    expect(cleaned).toBe(1);
    scope.defer(() => cleaned++); // after close: at once
    expect(cleaned).toBe(2);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
  });

  it("sync's bounded(): 'timed out before' or 'during' what it waited for", async () => {
    const c = new AbortController();
    const during = bounded(never, c.signal, 'the SSH handshake');
    c.abort();
    await expect(during).rejects.toThrow('timed out during the SSH handshake');
    await expect(bounded(never, c.signal, 'opening SFTP')).rejects.toThrow('timed out before opening SFTP');
    await expect(bounded(Promise.reject('text'), new AbortController().signal, 'x')).rejects.toThrow('text');
  });
});

describe('dial', () => {
  // A TLS handshake with a peer that accepts and never answers: the dial hangs until ended.
  const stalled = { host: HOST, port: 0, tls: { rejectUnauthorized: false } };

  it('ends a connect (TLS handshake included) at the abort', async () => {
    const c = new AbortController();
    const dialing = dial({ ...stalled, port: silentPort, signal: c.signal });
    setTimeout(() => c.abort(), 50);
    await expect(dialing).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('connectTimeoutMs: "connect timeout" before the signal', async () => {
    const err = await dial({ ...stalled, port: silentPort, signal: AbortSignal.timeout(5000), connectTimeoutMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckAbort);
    expect((err as CheckAbort).message).toBe('connect timeout');
  });

  it('dialIn: the socket dies with the scope; a refusal keeps the errno in its message', async () => {
    const c = new AbortController();
    const scope = new Scope(c.signal);
    const socket = await dialIn(scope, { host: HOST, port: silentPort });
    scope.close();
    expect(socket.destroyed).toBe(true);
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, HOST, () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    await expect(dialIn(new Scope(new AbortController().signal), { host: HOST, port: closed })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('LineConnection', () => {
  it('stops reading past maxBytes, and a read at the abort is "timed out"', async () => {
    const flood = new LineConnection(
      await dial({ host: HOST, port: floodPort, signal: AbortSignal.timeout(3000) }),
      AbortSignal.timeout(3000),
    );
    await expect(flood.readLine()).rejects.toMatchObject({ kind: 'overflow' });
    const c = new AbortController();
    const quiet = new LineConnection(await dial({ host: HOST, port: silentPort, signal: c.signal }), c.signal);
    const reading = quiet.readLine();
    c.abort();
    await expect(reading).rejects.toMatchObject({ kind: 'timeout' });
  });
});
