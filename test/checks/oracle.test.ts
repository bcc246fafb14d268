// service=oracle (oracledb in Thin mode). There is no Oracle server on Debian, so only
// what needs none is tested here, against peers on 127.0.26.1: the config guard,
// connection refused, a peer that never answers, and a peer that is not Oracle.
// Login, query and row counting against a real database are NOT tested.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOracleChecker, oracleChecker as oracle, oracleMissing } from '../../checks/oracle.js';
import { sqlConfigError } from '../../checks/sql.js';
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

const PEERS = '127.0.26.1';
let silent: TcpServer;
let garbage: TcpServer;

beforeAll(async () => {
  silent = await silentPeer(PEERS);
  garbage = await tcpServer(PEERS, (s) => s.on('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n')));
});
afterAll(async () => {
  await silent.close();
  await garbage.close();
});

const v = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({
    service: 'oracle',
    login: 'scott',
    passwd: 'tiger',
    database: 'ORCL',
    request: '/SELECT 1 FROM dual',
    negotiatetimeout: 2,
    checktimeout: 1,
    ...over,
  });

describe('oracle (no server available: refused, timeout, wrong peer only)', () => {
  it('has the original default port; no timeout in the original, negotiatetimeout here', () => {
    expect(oracle.defaultPort).toBe(1521);
    expect(oracle.timeoutSeconds(testVirtual({ negotiatetimeout: 6, checktimeout: 2 }))).toBe(6);
  });

  it('an empty login or request is down without connecting, with the original log line', async () => {
    const r = await run(oracle, testTarget(v({ request: '/' }), PEERS, 1521));
    expect(r).toMatchObject({ ok: false, message: '-', log: [sqlConfigError(PEERS)] });
  });

  it('connection refused is down', async () => {
    const r = await run(oracle, testTarget(v(), PEERS, await closedPort(PEERS)));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/NJS-503|could not be established/);
  });

  it('a listener that never answers is down at negotiatetimeout', async () => {
    const r = await run(oracle, testTarget(v({ negotiatetimeout: 1 }), PEERS, silent.port));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('a peer that is not an Oracle listener is down, before the timeout', async () => {
    const r = await run(oracle, testTarget(v(), PEERS, garbage.port));
    expect(r.ok).toBe(false);
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });
});

describe('oracle without the optional oracledb package', () => {
  it('is down and says so, in the log too, without connecting', async () => {
    const missing = createOracleChecker('oracledb-not-installed');
    const r = await run(missing, testTarget(v(), PEERS, silent.port));
    expect(r).toMatchObject({
      ok: false,
      message: '-',
      detail: oracleMissing('oracledb-not-installed'),
      log: [oracleMissing('oracledb-not-installed')],
    });
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
    expect(oracleMissing('oracledb')).toMatch(/needs the npm package oracledb, which is not installed/);
  });
});

describeMisbehavingPeers('oracle', oracle, v({ negotiatetimeout: 1 }), '127.0.26.9');
