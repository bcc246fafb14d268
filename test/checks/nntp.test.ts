// service=nntp against small hand-written NNTP servers on 127.0.20.x (spec §3.3: up
// when the greeting starts with "2", read within negotiatetimeout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nntpChecker } from '../../checks/nntp.js';
import {
  closedPort,
  LATE_MS,
  run,
  silentPeer,
  tcpServer,
  testTarget,
  testVirtual,
  type TcpServer,
  describeMisbehavingPeers,
} from '../support/data-servers.js';

const HOST = '127.0.20.1';
const servers: TcpServer[] = [];
let ready: TcpServer;
let postingDenied: TcpServer;
let unavailable: TcpServer;
let hangsUp: TcpServer;
let silent: TcpServer;

beforeAll(async () => {
  ready = await tcpServer(HOST, (s) => s.write('200 news.example.test NNTP service ready\r\n'));
  postingDenied = await tcpServer(HOST, (s) => s.write('201 news.example.test NNTP Service Ready, posting prohibited\r\n'));
  unavailable = await tcpServer(HOST, (s) => s.end('502 Service permanently unavailable\r\n'));
  hangsUp = await tcpServer(HOST, (s) => s.end());
  silent = await silentPeer(HOST);
  servers.push(ready, postingDenied, unavailable, hangsUp, silent);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const v = testVirtual({ service: 'nntp', negotiatetimeout: 0.5, checktimeout: 5 });

describe('nntp', () => {
  it('has the original default port and times out at negotiatetimeout', () => {
    expect(nntpChecker.defaultPort).toBe(119);
    expect(nntpChecker.timeoutSeconds(testVirtual({ negotiatetimeout: 7, checktimeout: 3 }))).toBe(7);
  });

  it('is up on a 200 greeting', async () => {
    const r = await run(nntpChecker, testTarget(v, HOST, ready.port));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toContain('200 news.example.test');
  });

  it('is up on a 201 greeting (any 2xx)', async () => {
    const r = await run(nntpChecker, testTarget(v, HOST, postingDenied.port));
    expect(r.ok).toBe(true);
  });

  it('is down on a 502 greeting (wrong status)', async () => {
    const r = await run(nntpChecker, testTarget(v, HOST, unavailable.port));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toContain('502');
  });

  it('is down when the server closes without a greeting', async () => {
    const r = await run(nntpChecker, testTarget(v, HOST, hangsUp.port));
    expect(r).toMatchObject({ ok: false, detail: 'closed without a greeting' });
  });

  it('is down when the connection is refused', async () => {
    const r = await run(nntpChecker, testTarget(v, HOST, await closedPort(HOST)));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/refused|ECONNREFUSED/);
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });

  it('is down at negotiatetimeout when the server never speaks', async () => {
    const r = await run(nntpChecker, testTarget(v, HOST, silent.port));
    expect(r).toMatchObject({ ok: false, message: '-', detail: 'timed out' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });
});

describeMisbehavingPeers('nntp', nntpChecker, testVirtual({ service: 'nntp', negotiatetimeout: 0.5 }), '127.0.20.9');
