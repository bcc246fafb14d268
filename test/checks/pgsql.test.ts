// service=pgsql against Debian's PostgreSQL (initdb + postgres in a temp dir) on
// 127.0.25.1:35432, plus misbehaving peers on 127.0.25.2.
import { expect, it } from 'vitest';
import { pgsqlChecker as pgsql } from '../../checks/pgsql.js';
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
