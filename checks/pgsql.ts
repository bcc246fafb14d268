// service=pgsql (spec §3.3; the frame is in sql.ts) with pg, the reference pure-JS
// client for PostgreSQL. It is handed a socket we create, so every byte is counted and
// the socket is destroyed when the check ends; pg's own connect timer is left off (the
// check's signal ends the connect).
import net from 'node:net';
import { followFrames } from './io/frames.js';
import { lazyModule } from './lazy-module.js';
import { defineSqlChecker, politely, sqlSocket, type SqlRun } from './sql.js';

const pg = lazyModule<typeof import('pg')>('pg');

/** The server's first message (authentication request or error) is small; a bigger one is not PostgreSQL. */
export const MAX_PG_FIRST_MESSAGE = 64 * 1024;
/** The biggest PostgreSQL message (one row) a check accepts, as for MySQL. */
export const MAX_PG_MESSAGE = 1024 * 1024;
/** What a server may answer first to a startup message: Authentication, ErrorResponse, NegotiateProtocolVersion. */
const FIRST_CODES = new Set(['R', 'E', 'v'].map((c) => c.charCodeAt(0)));
/** One-byte answers to an SSLRequest, which pg sends when PGSSLMODE asks for TLS. */
const SSL_YES = 'S'.charCodeAt(0);
const SSL_NO = 'N'.charCodeAt(0);

/**
 * Follows the PostgreSQL message framing (1-byte type, 4-byte big-endian length that
 * counts itself) of what the server sends and reports the first message that cannot be
 * PostgreSQL or is too big: pg would otherwise buffer a declared length of gigabytes,
 * up to the check's whole read limit, for every check of a peer that is not PostgreSQL.
 * After an 'S' answer to an SSLRequest the bytes are TLS records, framed by TLS itself.
 */
export function pgFraming(): (chunk: Buffer) => string | undefined {
  let messages = 0;
  const frames = followFrames(5, ([code = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0] = []) => {
    const length = b0 * 2 ** 24 + (b1 << 16) + (b2 << 8) + b3 - 4;
    const first = messages++ === 0;
    if ((first && !FIRST_CODES.has(code)) || length < 0) {
      return `not a PostgreSQL server (${first ? 'first ' : ''}message type 0x${code.toString(16).padStart(2, '0')}, length ${length + 4})`;
    }
    const limit = first ? MAX_PG_FIRST_MESSAGE : MAX_PG_MESSAGE;
    return length > limit ? `message of ${length} bytes is over the ${limit}-byte limit` : length;
  });
  let started = false;
  let tls = false;
  return (chunk) => {
    if (started || chunk.length === 0) return tls ? undefined : frames(chunk);
    started = true;
    const answer = chunk[0];
    tls = answer === SSL_YES;
    if (tls) return undefined;
    return frames(chunk, answer === SSL_NO ? 1 : 0);
  };
}

const runPgsql: SqlRun = async (scope, target, login, query) => {
  const client = new (pg().Client)({
    host: target.host,
    port: target.port,
    user: login.login,
    password: login.passwd,
    database: login.database === '' ? undefined : login.database,
    stream: () => sqlSocket(scope, new net.Socket(), pgFraming()),
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

export const pgsqlChecker = defineSqlChecker({ name: 'pgsql', defaultPort: 5432, run: runPgsql });
