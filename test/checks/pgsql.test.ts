// service=pgsql against Debian's PostgreSQL (initdb + postgres in a temp dir) on
// 127.0.25.1:35432, plus misbehaving peers on 127.0.25.2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgsqlChecker as pgsql } from '../../checks/pgsql.js';
import { sqlConfigError } from '../../checks/sql.js';
import {
  closedPort, LATE_MS, run, silentPeer, tcpServer, testTarget, testVirtual, type TcpServer,
  describeMisbehavingPeers,
} from '../support/data-servers.js';
import { postgresBinaries, PG_PW, PG_USER, startPostgres, type Running } from '../support/data-daemons.js';

const HOST = '127.0.25.1';
const PEERS = '127.0.25.2';
const PORT = 35432;
const bin = postgresBinaries();
let server: Running | undefined;

const v = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({
    service: 'pgsql', login: PG_USER, passwd: PG_PW, database: 'ldtest',
    request: '/SELECT * FROM director WHERE enabled = 1', negotiatetimeout: 5, checktimeout: 1, ...over,
  });

describe('pgsql: without a server', () => {
  let silent: TcpServer;
  let garbage: TcpServer;
  beforeAll(async () => {
    silent = await silentPeer(PEERS);
    garbage = await tcpServer(PEERS, (s) => s.end('HTTP/1.0 400 Bad Request\r\n\r\n'));
  });
  afterAll(async () => {
    await silent.close();
    await garbage.close();
  });

  it('has the original default port; no timeout in the original, negotiatetimeout here', () => {
    expect(pgsql.defaultPort).toBe(5432);
    expect(pgsql.timeoutSeconds(testVirtual({ negotiatetimeout: 6, checktimeout: 2 }))).toBe(6);
  });

  it('an empty login or request is down without connecting, with the original log line', async () => {
    const port = await closedPort(PEERS);
    for (const over of [{ login: '' }, { login: '0' }, { request: '/' }]) {
      const r = await run(pgsql, testTarget(v(over), PEERS, port));
      expect(r).toMatchObject({ ok: false, message: '-', log: [sqlConfigError(PEERS)] });
    }
    expect(sqlConfigError('10.0.0.2')).toBe(
      'Error: Must specify a login and request string for MySQL, Oracle and PostgreSQL checks. Not adding 10.0.0.2.');
  });

  it('connection refused is down', async () => {
    const r = await run(pgsql, testTarget(v(), PEERS, await closedPort(PEERS)));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });

  it('a server that accepts and never greets is down at negotiatetimeout', async () => {
    const r = await run(pgsql, testTarget(v({ negotiatetimeout: 0.5 }), PEERS, silent.port));
    expect(r).toMatchObject({ ok: false, detail: 'timed out' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('a peer that is not PostgreSQL is down', async () => {
    const r = await run(pgsql, testTarget(v(), PEERS, garbage.port));
    expect(r.ok).toBe(false);
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });
});

describe.skipIf(!bin)('pgsql against postgres', () => {
  beforeAll(async () => {
    server = await startPostgres(bin as NonNullable<typeof bin>, HOST, PORT);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a query returning rows is up', async () => {
    const r = await run(pgsql, testTarget(v(), HOST, PORT));
    expect(r).toMatchObject({ ok: true, message: '-', detail: '1 row(s)' });
  });

  it('the per-real request replaces the virtual one', async () => {
    const r = await run(pgsql, testTarget(v({ request: '/SELECT 1 FROM empty' }), HOST, PORT, { request: '/SELECT id FROM director', receive: '' }));
    expect(r).toMatchObject({ ok: true, detail: '2 row(s)' });
  });

  it('a query returning no rows is down', async () => {
    const r = await run(pgsql, testTarget(v({ request: '/SELECT * FROM empty' }), HOST, PORT));
    expect(r).toMatchObject({ ok: false, message: '-', detail: 'no rows' });
  });

  it('a failing query is down', async () => {
    const r = await run(pgsql, testTarget(v({ request: '/SELECT * FROM nosuchtable' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/relation "nosuchtable" does not exist/);
  });

  it('a wrong password is down (bad login)', async () => {
    const r = await run(pgsql, testTarget(v({ passwd: 'wrong' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/password authentication failed for user "checker"/);
  });

  it('a database that does not exist is down', async () => {
    const r = await run(pgsql, testTarget(v({ database: 'nosuchdb' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/database "nosuchdb" does not exist/);
  });

  it("without a database, PostgreSQL's default (the user's name) is used", async () => {
    const r = await run(pgsql, testTarget(v({ database: '', request: '/SELECT 1' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/database "checker" does not exist/);
  });

  it('a statement that is not a SELECT counts the rows it affected', async () => {
    const r = await run(pgsql, testTarget(v({ request: '/UPDATE director SET enabled = enabled WHERE id = 1' }), HOST, PORT));
    expect(r).toMatchObject({ ok: true, detail: '1 row(s)' });
  });
});

describeMisbehavingPeers('pgsql', pgsql, v({ negotiatetimeout: 0.5 }), '127.0.25.9');
