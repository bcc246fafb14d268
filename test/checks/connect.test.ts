// checktype=connect against real listeners on 127.0.15.x.
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../checks/types.js';
import { connectChecker } from '../../checks/connect.js';
import { viaStart } from './support/via-start.js';
import { makeTarget, startRawServer, timed, type RawServer } from './web-fixtures.js';

const HOST = '127.0.15.1';
const servers: RawServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const t = (port: number, over: { checkport?: number } = {}) =>
  makeTarget({ checktype: { kind: 'connect' }, checktimeout: 1, ...over }, { ip: HOST, port });

describe('connect', () => {
  it('is up when the port accepts, and closes at once', async () => {
    const server = await startRawServer(HOST, 15001, () => undefined);
    servers.push(server);
    const r = await connectChecker.probe(t(15001), AbortSignal.timeout(1000));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toBe(`connected to ${HOST}:15001`);
  });

  it('is down when the port refuses', async () => {
    const r = await connectChecker.probe(t(15002), AbortSignal.timeout(1000));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`connect to ${HOST}:15002: connection refused`);
  });

  it('uses checkport', async () => {
    expect((await connectChecker.probe(t(15002, { checkport: 15001 }), AbortSignal.timeout(1000))).ok).toBe(true);
  });

  it('is down (timed out) when the signal has aborted, without connecting', async () => {
    const controller = new AbortController();
    controller.abort(new DOMException('timed out', 'TimeoutError'));
    const [r, ms] = await timed(() => connectChecker.probe(t(15001), controller.signal));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`connect to ${HOST}:15001: timed out`);
    expect(ms).toBeLessThan(100);
  });

  it('gives through start() the answers probe() gives: accepted, refused, aborted before it began (before start() returns)', async () => {
    const strip = ({ ok, message, detail }: CheckResult) => ({ ok, message, detail });
    for (const port of [15001, 15002]) {
      const started = viaStart(connectChecker, t(port), AbortSignal.timeout(1000));
      await started.done;
      expect(started.answers.map(strip)).toEqual([strip(await connectChecker.probe(t(port), AbortSignal.timeout(1000)))]);
    }
    const controller = new AbortController();
    controller.abort(new DOMException('timed out', 'TimeoutError'));
    const aborted = viaStart(connectChecker, t(15001), controller.signal);
    expect(aborted.answers.map(strip)).toEqual([{ ok: false, message: '-', detail: `connect to ${HOST}:15001: timed out` }]);
  });
});
