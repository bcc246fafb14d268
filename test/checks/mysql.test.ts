// service=mysql against Debian's MariaDB (mariadbd in a temp datadir) on
// 127.0.24.1:33061, plus misbehaving peers on 127.0.24.2.
import { expect, it, describe } from 'vitest';
import { mysqlChecker as mysql } from '../../checks/mysql.js';
import { run, testTarget, testVirtual, describeMisbehavingPeers } from '../support/data-servers.js';
import { mariadbBinaries, MYSQL_PW, MYSQL_USER, startMariadb } from '../support/data-daemons.js';
import { describeAgainstServer, describeWithoutServer, type SqlCase } from './support/sql-cases.js';

const HOST = '127.0.24.1';
const PEERS = '127.0.24.2';
const PORT = 33061;
const bin = mariadbBinaries();

const v = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({
    service: 'mysql',
    login: MYSQL_USER,
    passwd: MYSQL_PW,
    database: 'ldtest',
    request: '/SELECT * FROM director WHERE enabled = 1',
    negotiatetimeout: 5,
    checktimeout: 1,
    ...over,
  });

const MYSQL: SqlCase = { name: 'mysql', product: 'MySQL', checker: mysql, defaultPort: 3306, v, bare: testVirtual };

describeWithoutServer(MYSQL, PEERS);

describeAgainstServer(
  MYSQL,
  'mysql against mariadbd',
  { available: bin !== undefined, start: () => startMariadb(bin as NonNullable<typeof bin>, HOST, PORT) },
  { host: HOST, port: PORT },
  { noSuchTable: /doesn't exist/, badPassword: /Access denied for user 'checker'/ },
  () => {
    it('a database the user may not use is down', async () => {
      const r = await run(mysql, testTarget(v({ database: 'mysql' }), HOST, PORT));
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/Access denied/);
    });

    it('without a database, a qualified table name works', async () => {
      const r = await run(mysql, testTarget(v({ database: '', request: '/SELECT enabled FROM ldtest.director' }), HOST, PORT));
      expect(r).toMatchObject({ ok: true, detail: '2 row(s)' });
    });
  },
);

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
