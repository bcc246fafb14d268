// service=mysql against Debian's MariaDB (mariadbd in a temp datadir) on
// 127.0.24.1:33061, plus misbehaving peers on 127.0.24.2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlChecker as mysql } from '../../checks/mysql.js';
import { sqlConfigError } from '../../checks/sql.js';
import {
  closedPort, LATE_MS, run, silentPeer, tcpServer, testTarget, testVirtual, type TcpServer,
  describeMisbehavingPeers,
} from '../support/data-servers.js';
import { mariadbBinaries, MYSQL_PW, MYSQL_USER, startMariadb, type Running } from '../support/data-daemons.js';

const HOST = '127.0.24.1';
const PEERS = '127.0.24.2';
const PORT = 33061;
const bin = mariadbBinaries();
let server: Running | undefined;

const v = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({
    service: 'mysql', login: MYSQL_USER, passwd: MYSQL_PW, database: 'ldtest',
    request: '/SELECT * FROM director WHERE enabled = 1', negotiatetimeout: 5, checktimeout: 1, ...over,
  });

describe('mysql: without a server', () => {
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
    expect(mysql.defaultPort).toBe(3306);
    expect(mysql.timeoutSeconds(testVirtual({ negotiatetimeout: 6, checktimeout: 2 }))).toBe(6);
  });

  it('an empty login or request is down without connecting, with the original log line', async () => {
    const port = await closedPort(PEERS);
    for (const over of [{ login: '' }, { login: '0' }, { request: '/' }]) {
      const r = await run(mysql, testTarget(v(over), PEERS, port));
      expect(r).toMatchObject({ ok: false, message: '-', log: [sqlConfigError(PEERS)] });
    }
    expect(sqlConfigError('10.0.0.2')).toBe(
      'Error: Must specify a login and request string for MySQL, Oracle and PostgreSQL checks. Not adding 10.0.0.2.');
  });

  it('connection refused is down', async () => {
    const r = await run(mysql, testTarget(v(), PEERS, await closedPort(PEERS)));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });

  it('a server that accepts and never greets is down at negotiatetimeout', async () => {
    const r = await run(mysql, testTarget(v({ negotiatetimeout: 0.5 }), PEERS, silent.port));
    expect(r).toMatchObject({ ok: false, detail: 'timed out' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('a peer that is not MySQL is down', async () => {
    const r = await run(mysql, testTarget(v(), PEERS, garbage.port));
    expect(r.ok).toBe(false);
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });
});

describe.skipIf(!bin)('mysql against mariadbd', () => {
  beforeAll(async () => {
    server = await startMariadb(bin as NonNullable<typeof bin>, HOST, PORT);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a query returning rows is up', async () => {
    const r = await run(mysql, testTarget(v(), HOST, PORT));
    expect(r).toMatchObject({ ok: true, message: '-', detail: '1 row(s)' });
  });

  it('the per-real request replaces the virtual one', async () => {
    const r = await run(mysql, testTarget(v({ request: '/SELECT 1 FROM empty' }), HOST, PORT, { request: '/SELECT id FROM director', receive: '' }));
    expect(r).toMatchObject({ ok: true, detail: '2 row(s)' });
  });

  it('a query returning no rows is down', async () => {
    const r = await run(mysql, testTarget(v({ request: '/SELECT * FROM empty' }), HOST, PORT));
    expect(r).toMatchObject({ ok: false, message: '-', detail: 'no rows' });
  });

  it('a failing query is down', async () => {
    const r = await run(mysql, testTarget(v({ request: '/SELECT * FROM nosuchtable' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/doesn't exist/);
  });

  it('a wrong password is down (bad login)', async () => {
    const r = await run(mysql, testTarget(v({ passwd: 'wrong' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/Access denied for user 'checker'/);
  });

  it('a database the user may not use is down', async () => {
    const r = await run(mysql, testTarget(v({ database: 'mysql' }), HOST, PORT));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/Access denied/);
  });

  it('without a database, a qualified table name works', async () => {
    const r = await run(mysql, testTarget(v({ database: '', request: '/SELECT enabled FROM ldtest.director' }), HOST, PORT));
    expect(r).toMatchObject({ ok: true, detail: '2 row(s)' });
  });
});

describeMisbehavingPeers('mysql', mysql, v({ negotiatetimeout: 0.5 }), '127.0.24.9');

describe('mysql: packet framing guard', () => {
  it('passes a normal greeting and rows, stops a non-MySQL peer and oversized packets', async () => {
    const { mysqlFraming, MAX_MYSQL_PACKET } = await import('../../checks/mysql.js');
    const pkt = (len: number, seq: number): Buffer => Buffer.from([len & 0xff, (len >> 8) & 0xff, len >> 16, seq]);
    const ok = mysqlFraming();
    expect(ok(Buffer.concat([pkt(3, 0), Buffer.from('abc'), pkt(2, 1)]))).toBeUndefined();
    expect(ok(Buffer.from('de'))).toBeUndefined();
    expect(ok(pkt(MAX_MYSQL_PACKET, 2))).toBeUndefined();
    expect(mysqlFraming()(Buffer.from('HTTP/1.0 400 Bad Request\r\n'))).toMatch(/not a MySQL server/);
    expect(mysqlFraming()(pkt(70000, 0))).toMatch(/greeting of 70000 bytes/);
    const big = mysqlFraming();
    expect(big(Buffer.concat([pkt(1, 0), Buffer.from('x')]))).toBeUndefined();
    expect(big(pkt(MAX_MYSQL_PACKET + 1, 1))).toMatch(/packet of \d+ bytes is over/);
  });
});
