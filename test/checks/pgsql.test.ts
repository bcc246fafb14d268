// service=pgsql against Debian's PostgreSQL (initdb + postgres in a temp dir) on
// 127.0.25.1:35432, plus misbehaving peers on 127.0.25.2.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_PG_FIRST_MESSAGE, MAX_PG_MESSAGE, pgFraming, pgsqlChecker as pgsql } from '../../checks/pgsql.js';
import { run, testTarget, testVirtual, describeMisbehavingPeers } from '../support/data-servers.js';
import { postgresBinaries, PG_PW, PG_USER, startPostgres } from '../support/data-daemons.js';
import { describeAgainstServer, describeWithoutServer, type SqlCase } from './support/sql-cases.js';

const HOST = '127.0.25.1';
const PEERS = '127.0.25.2';
const PORT = 35432;
const bin = postgresBinaries();

const v = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({
    service: 'pgsql',
    login: PG_USER,
    passwd: PG_PW,
    database: 'ldtest',
    request: '/SELECT * FROM director WHERE enabled = 1',
    negotiatetimeout: 5,
    checktimeout: 1,
    ...over,
  });

const PGSQL: SqlCase = { name: 'pgsql', product: 'PostgreSQL', checker: pgsql, defaultPort: 5432, v, bare: testVirtual };

describeWithoutServer(PGSQL, PEERS);

describeAgainstServer(
  PGSQL,
  'pgsql against postgres',
  { available: bin !== undefined, start: () => startPostgres(bin as NonNullable<typeof bin>, HOST, PORT) },
  { host: HOST, port: PORT },
  { noSuchTable: /relation "nosuchtable" does not exist/, badPassword: /password authentication failed for user "checker"/ },
  () => {
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
  },
);

describeMisbehavingPeers('pgsql', pgsql, v({ negotiatetimeout: 0.5 }), '127.0.25.9');

describe('pgsql: message framing guard', () => {
  const msg = (code: string, length: number): Buffer => {
    const b = Buffer.alloc(5);
    b.write(code, 0, 'latin1');
    b.writeUInt32BE(length, 1);
    return b;
  };

  it('passes an authentication request and rows, stops a non-PostgreSQL peer and oversized messages', () => {
    const ok = pgFraming();
    expect(ok(Buffer.concat([msg('R', 8), Buffer.from([0, 0, 0, 0]), msg('S', 6)]))).toBeUndefined();
    expect(ok(Buffer.from('ab'))).toBeUndefined();
    expect(ok(msg('D', MAX_PG_MESSAGE + 4))).toBeUndefined();
    expect(pgFraming()(Buffer.from('HTTP/1.0 400 Bad Request\r\n'))).toMatch(/not a PostgreSQL server \(first message type 0x48/);
    expect(pgFraming()(Buffer.from('xxxxxxxxxx'))).toMatch(/not a PostgreSQL server/);
    expect(pgFraming()(msg('E', MAX_PG_FIRST_MESSAGE + 5))).toMatch(/message of 65537 bytes is over the 65536-byte limit/);
    const big = pgFraming();
    expect(big(Buffer.concat([msg('R', 4), msg('D', MAX_PG_MESSAGE + 5)]))).toMatch(/message of \d+ bytes is over the 1048576-byte limit/);
    expect(pgFraming()(Buffer.concat([msg('R', 4), msg('D', 3)]))).toMatch(/not a PostgreSQL server \(message type 0x44, length 3\)/);
  });

  it('a header split across chunks is followed byte by byte', () => {
    const split = pgFraming();
    const head = msg('R', MAX_PG_FIRST_MESSAGE + 5);
    expect(split(head.subarray(0, 2))).toBeUndefined();
    expect(split(head.subarray(2))).toMatch(/over the 65536-byte limit/);
  });

  it("an SSLRequest's one-byte answer comes first: after 'N' framing goes on, after 'S' the bytes are TLS", () => {
    expect(pgFraming()(Buffer.concat([Buffer.from('N'), msg('R', 8)]))).toBeUndefined();
    expect(pgFraming()(Buffer.concat([Buffer.from('N'), Buffer.from('xxxxx')]))).toMatch(/not a PostgreSQL server/);
    expect(pgFraming()(Buffer.from('S\x16\x03\x03\xff\xff'))).toBeUndefined();
  });

  it('a peer answering with HTTP is down at once, named as not PostgreSQL', async () => {
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.resume();
      s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, PEERS, resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const r = await run(pgsql, testTarget(v({ negotiatetimeout: 2 }), PEERS, port));
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/not a PostgreSQL server \(first message type 0x48/);
      expect(r.elapsedMs).toBeLessThan(1000);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
