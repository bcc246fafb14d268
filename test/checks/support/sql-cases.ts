// The cases mysql.test.ts and pgsql.test.ts share: the same frame (checks/sql.ts) checked
// without a server and against a real one. Each file adds the cases of its own database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlConfigError } from '../../../checks/sql.js';
import type { Checker } from '../../../checks/types.js';
import type { VirtualService } from '../../../lib/config/model.js';
import { closedPort, LATE_MS, run, silentPeer, tcpServer, testTarget, type TcpServer } from '../../support/data-servers.js';

type VirtualOf = (over?: Partial<VirtualService>) => VirtualService;

export interface SqlCase {
  /** Service name, as in the describe titles: mysql, pgsql. */
  readonly name: string;
  /** The database's own name in test titles: MySQL, PostgreSQL. */
  readonly product: string;
  readonly checker: Checker;
  readonly defaultPort: number;
  /** The test virtual, with a login and query that succeed against the test server. */
  readonly v: VirtualOf;
  /** Builds a virtual without the test's defaults (for the timeout declaration). */
  readonly bare: VirtualOf;
}

export function describeWithoutServer(c: SqlCase, peers: string): void {
  describe(`${c.name}: without a server`, () => {
    let silent: TcpServer;
    let garbage: TcpServer;
    beforeAll(async () => {
      silent = await silentPeer(peers);
      garbage = await tcpServer(peers, (s) => s.end('HTTP/1.0 400 Bad Request\r\n\r\n'));
    });
    afterAll(async () => {
      await silent.close();
      await garbage.close();
    });

    it('has the original default port; no timeout in the original, negotiatetimeout here', () => {
      expect(c.checker.defaultPort).toBe(c.defaultPort);
      expect(c.checker.timeoutSeconds(c.bare({ negotiatetimeout: 6, checktimeout: 2 }))).toBe(6);
    });

    it('an empty login or request is down without connecting, with the original log line', async () => {
      const port = await closedPort(peers);
      for (const over of [{ login: '' }, { login: '0' }, { request: '/' }]) {
        const r = await run(c.checker, testTarget(c.v(over), peers, port));
        expect(r).toMatchObject({ ok: false, message: '-', log: [sqlConfigError(peers)] });
      }
      expect(sqlConfigError('10.0.0.2')).toBe(
        'Error: Must specify a login and request string for MySQL, Oracle and PostgreSQL checks. Not adding 10.0.0.2.',
      );
    });

    it('connection refused is down', async () => {
      const r = await run(c.checker, testTarget(c.v(), peers, await closedPort(peers)));
      expect(r).toMatchObject({ ok: false, message: '-' });
      expect(r.detail).toMatch(/ECONNREFUSED/);
    });

    it('a server that accepts and never greets is down at negotiatetimeout', async () => {
      const r = await run(c.checker, testTarget(c.v({ negotiatetimeout: 0.5 }), peers, silent.port));
      expect(r).toMatchObject({ ok: false, detail: 'timed out' });
      expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
      expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
    });

    it(`a peer that is not ${c.product} is down`, async () => {
      const r = await run(c.checker, testTarget(c.v(), peers, garbage.port));
      expect(r.ok).toBe(false);
      expect(r.elapsedMs).toBeLessThan(r.limitMs);
    });
  });
}

export interface ServerErrors {
  /** What the server says about a table that does not exist. */
  readonly noSuchTable: RegExp;
  /** What it says about a wrong password for the test user. */
  readonly badPassword: RegExp;
}

/**
 * The cases every SQL server answers alike (the test database has `director` with two
 * rows, one enabled, and an empty table `empty`); `more` adds the server's own.
 */
export function describeAgainstServer(
  c: SqlCase,
  title: string,
  server: { readonly available: boolean; start(): Promise<{ stop(): Promise<void> }> },
  at: { readonly host: string; readonly port: number },
  errors: ServerErrors,
  more: () => void,
): void {
  describe.skipIf(!server.available)(title, () => {
    let running: { stop(): Promise<void> } | undefined;
    beforeAll(async () => {
      running = await server.start();
    });
    afterAll(async () => {
      await running?.stop();
    });

    it('a query returning rows is up', async () => {
      const r = await run(c.checker, testTarget(c.v(), at.host, at.port));
      expect(r).toMatchObject({ ok: true, message: '-', detail: '1 row(s)' });
    });

    it('the per-real request replaces the virtual one', async () => {
      const r = await run(
        c.checker,
        testTarget(c.v({ request: '/SELECT 1 FROM empty' }), at.host, at.port, { request: '/SELECT id FROM director', receive: '' }),
      );
      expect(r).toMatchObject({ ok: true, detail: '2 row(s)' });
    });

    it('a query returning no rows is down', async () => {
      const r = await run(c.checker, testTarget(c.v({ request: '/SELECT * FROM empty' }), at.host, at.port));
      expect(r).toMatchObject({ ok: false, message: '-', detail: 'no rows' });
    });

    it('a failing query is down', async () => {
      const r = await run(c.checker, testTarget(c.v({ request: '/SELECT * FROM nosuchtable' }), at.host, at.port));
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(errors.noSuchTable);
    });

    it('a wrong password is down (bad login)', async () => {
      const r = await run(c.checker, testTarget(c.v({ passwd: 'wrong' }), at.host, at.port));
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(errors.badPassword);
    });

    more();
  });
}
