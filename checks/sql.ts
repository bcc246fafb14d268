// service=mysql / pgsql / oracle (spec §3.3): connect as login/passwd to `database`
// on real:checkport, run `request` (leading '/' removed) twice, and be up when the
// second run reports more than 0 rows (SELECT: rows returned; other statements: rows
// affected; Oracle: the one row fetched) with no error. A login or query that is empty
// (or "0", Perl's falsehood) is down without connecting; the original also logged
// SQL_CONFIG_ERROR then, which the runner can do with sqlConfigError().
//
// Timeout: the original had none (a hung database stalled the whole daemon). Fixed
// (spec §10): the whole check runs under negotiatetimeout, like the other services
// that talk a protocol. Memory: at most MAX_SQL_BYTES are read per check (a bigger
// result is down); the query result is the only thing that grows.
//
// Libraries (each the reference pure-JS client of its database, maintained, no native
// code): mysql2 for MySQL/MariaDB, pg for PostgreSQL, oracledb in its default Thin mode
// (pure JS; the Thick-mode binaries in the package are never loaded) for Oracle. mysql2
// and pg are handed a socket we create, so it is counted and destroyed on abort;
// oracledb cannot take a socket: on abort we stop waiting, and its own connect timeout
// (negotiatetimeout) and per-round-trip callTimeout end what it has in flight.
import net from 'node:net';
import type { Checker, CheckResult, CheckTarget } from './types.js';
import type { VirtualService } from '../lib/config/model.js';
import { Outcome } from './outcome.js';
import { perlTrue, Scope, why, withoutSlash } from './data-io.js';

export const MAX_SQL_BYTES = 8 * 1024 * 1024;

/** The original's log line when login or request is missing (it then went down). */
export function sqlConfigError(realIp: string): string {
  return (
    'Error: Must specify a login and request string for MySQL, Oracle and PostgreSQL checks. ' +
    `Not adding ${realIp}.`
  );
}

/** The query the original runs, or undefined when it refuses to (see sqlConfigError). */
export function sqlQuery(virtual: Pick<VirtualService, 'login'>, request: string): string | undefined {
  const query = withoutSlash(request);
  return perlTrue(virtual.login) && perlTrue(query) ? query : undefined;
}

function countedSocket(scope: Scope, socket: net.Socket, inspect?: (chunk: Buffer) => string | undefined): net.Socket {
  scope.own(socket);
  let seen = 0;
  // Registered before the driver's own 'data' listener: a chunk that breaks a limit
  // destroys the socket, so the driver never gets the rest of what the peer sends.
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    const bad = seen > MAX_SQL_BYTES ? `more than ${MAX_SQL_BYTES} bytes received` : inspect?.(chunk);
    if (bad) socket.destroy(new Error(bad));
  });
  return socket;
}

/** A server greeting is ~100 bytes; a bigger first packet is not a MySQL server. */
export const MAX_MYSQL_GREETING = 64 * 1024;
/** The biggest MySQL packet (one row) a check accepts. */
export const MAX_MYSQL_PACKET = 1024 * 1024;

/**
 * Follows the MySQL packet framing (3-byte length, 1-byte sequence) of what the server
 * sends and reports the first packet that is too big, or a first packet that is not
 * sequence 0: mysql2 would otherwise buffer and decode megabytes of garbage from a
 * peer that is not MySQL, blocking the event loop for seconds.
 */
export function mysqlFraming(): (chunk: Buffer) => string | undefined {
  const header: number[] = [];
  let remaining = 0;
  let packets = 0;
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - at);
        remaining -= n;
        at += n;
        continue;
      }
      header.push(chunk[at++] as number);
      if (header.length < 4) continue;
      const [b0, b1, b2, seq] = header.splice(0) as [number, number, number, number];
      remaining = b0 | (b1 << 8) | (b2 << 16);
      const first = packets++ === 0;
      if (first && seq !== 0) return `not a MySQL server (first packet has sequence ${seq})`;
      const limit = first ? MAX_MYSQL_GREETING : MAX_MYSQL_PACKET;
      if (remaining > limit) return `${first ? 'greeting' : 'packet'} of ${remaining} bytes is over the ${limit}-byte limit`;
    }
    return undefined;
  };
}

/** How long a check waits for a polite goodbye (COM_QUIT, Terminate) before closing anyway. */
const GOODBYE_MS = 250;

function politely(goodbye: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, GOODBYE_MS);
    goodbye.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

type Run = (scope: Scope, target: CheckTarget, query: string) => Promise<number>;

function sqlChecker(name: 'mysql' | 'pgsql' | 'oracle', defaultPort: number, run: Run): Checker {
  return {
    name,
    defaultPort,
    timeoutSeconds: (virtual) => virtual.negotiatetimeout,
    async probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
      const out = new Outcome();
      const query = sqlQuery(target.virtual, target.request);
      if (query === undefined) {
        return out.down('-', { detail: 'login or request is empty', log: [sqlConfigError(target.real.ip)] });
      }
      const scope = new Scope(signal);
      try {
        const rows = await scope.race(run(scope, target, query));
        return rows > 0 ? out.up('-', { detail: `${rows} row(s)` }) : out.down('-', { detail: 'no rows' });
      } catch (err) {
        return out.down('-', { detail: why(err, scope) });
      } finally {
        scope.close();
      }
    },
  };
}

const runMysql: Run = async (scope, target, query) => {
  const { createConnection } = await import('mysql2');
  const v = target.virtual;
  const core = createConnection({
    host: target.host,
    port: target.port,
    user: v.login,
    password: v.passwd,
    database: v.database === '' ? undefined : v.database,
    connectTimeout: Math.max(1, v.negotiatetimeout) * 1000,
    stream: () => countedSocket(scope, net.connect({ host: target.host, port: target.port }), mysqlFraming()),
  });
  // Errors after the check has stopped listening must not crash the daemon.
  core.on('error', () => undefined);
  scope.defer(() => core.destroy());
  await new Promise<void>((resolve, reject) => {
    core.once('connect', () => resolve());
    core.once('error', reject);
  });
  const conn = core.promise();
  const rowsOf = (res: unknown): number =>
    Array.isArray(res) ? res.length : Number((res as { affectedRows?: number }).affectedRows ?? 0);
  try {
    await conn.query(query);
    const [second] = await conn.query(query);
    return rowsOf(second);
  } finally {
    // COM_QUIT, like DBI's disconnect: an abrupt close is logged by the server as an
    // aborted connection, once per check.
    await politely(conn.end());
  }
};

const runPgsql: Run = async (scope, target, query) => {
  const pg = (await import('pg')).default;
  const v = target.virtual;
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: v.login,
    password: v.passwd,
    database: v.database === '' ? undefined : v.database,
    connectionTimeoutMillis: Math.max(1, v.negotiatetimeout) * 1000,
    stream: () => countedSocket(scope, new net.Socket()),
  });
  client.on('error', () => undefined);
  await client.connect();
  const rowsOf = (res: unknown): number => {
    const last = (Array.isArray(res) ? res[res.length - 1] : res) as { rowCount?: number | null; rows?: unknown[] } | undefined;
    return Number(last?.rowCount ?? last?.rows?.length ?? 0);
  };
  try {
    await client.query(query);
    return rowsOf(await client.query(query));
  } finally {
    await politely(client.end()); // Terminate, like DBI's disconnect
  }
};

const runOracle: Run = async (scope, target, query) => {
  const oracledb = (await import('oracledb')).default;
  const v = target.virtual;
  const host = target.host;
  const connectString =
    `(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=${host})(PORT=${target.port}))` + `(CONNECT_DATA=(SID=${v.database})))`;
  const pending = oracledb.getConnection({
    user: v.login,
    password: v.passwd,
    connectString,
    connectTimeout: Math.max(1, v.negotiatetimeout),
    transportConnectTimeout: Math.max(1, v.negotiatetimeout),
  });
  // If the check is over before the connection is, close it when it arrives.
  scope.defer(() => {
    pending.then((c) => c.close()).catch(() => undefined);
  });
  const conn = await pending;
  conn.callTimeout = Math.max(1, v.negotiatetimeout) * 1000;
  try {
    await conn.execute(query, [], { maxRows: 1 });
    const second = await conn.execute(query, [], { maxRows: 1 });
    return second.rows ? second.rows.length : Number(second.rowsAffected ?? 0);
  } finally {
    await politely(conn.close());
  }
};

export const mysqlChecker: Checker = sqlChecker('mysql', 3306, runMysql);
export const pgsqlChecker: Checker = sqlChecker('pgsql', 5432, runPgsql);
export const oracleChecker: Checker = sqlChecker('oracle', 1521, runOracle);
