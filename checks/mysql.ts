// service=mysql (spec §3.3; the frame is in sql.ts) with mysql2, the reference pure-JS
// client for MySQL and MariaDB. It is handed a socket we create, so every byte is
// counted and the socket is destroyed when the check ends.
import net from 'node:net';
import { followFrames } from './io/frames.js';
import { lazyModule } from './lazy-module.js';
import { defineSqlChecker, politely, sqlSocket, type SqlRun } from './sql.js';

const mysql2 = lazyModule<typeof import('mysql2')>('mysql2');

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
  let packets = 0;
  return followFrames(4, ([b0 = 0, b1 = 0, b2 = 0, seq = 0] = []) => {
    const length = b0 | (b1 << 8) | (b2 << 16);
    const first = packets++ === 0;
    if (first && seq !== 0) return `not a MySQL server (first packet has sequence ${seq})`;
    const limit = first ? MAX_MYSQL_GREETING : MAX_MYSQL_PACKET;
    return length > limit ? `${first ? 'greeting' : 'packet'} of ${length} bytes is over the ${limit}-byte limit` : length;
  });
}

/** mysql2's own connect timer, off: the check's signal ends the connect. */
const NO_CONNECT_TIMEOUT = 0;

const runMysql: SqlRun = async (scope, target, login, query) => {
  const core = mysql2().createConnection({
    host: target.host,
    port: target.port,
    user: login.login,
    password: login.passwd,
    database: login.database === '' ? undefined : login.database,
    connectTimeout: NO_CONNECT_TIMEOUT,
    stream: () => sqlSocket(scope, net.connect({ host: target.host, port: target.port }), mysqlFraming()),
  });
  // Errors after the check has stopped listening must not crash the daemon.
  core.on('error', () => undefined);
  scope.defer(() => core.destroy());
  await new Promise<void>((resolve, reject) => {
    core.once('connect', () => resolve());
    core.once('error', reject);
  });
  const conn = core.promise();
  const rowsOf = (res: unknown): number => (Array.isArray(res) ? res.length : Number((res as { affectedRows?: number }).affectedRows ?? 0));
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

export const mysqlChecker = defineSqlChecker({ name: 'mysql', defaultPort: 3306, run: runMysql });
