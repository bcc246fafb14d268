// service=pgsql (spec §3.3; the frame is in sql.ts) with pg, the reference pure-JS
// client for PostgreSQL. It is handed a socket we create, so every byte is counted and
// the socket is destroyed when the check ends; pg's own connect timer is left off (the
// check's signal ends the connect).
import net from 'node:net';
import { lazyModule } from './lazy-module.js';
import { defineSqlChecker, politely, sqlSocket, type SqlRun } from './sql.js';

const pg = lazyModule<typeof import('pg')>('pg');

const runPgsql: SqlRun = async (scope, target, login, query) => {
  const client = new (pg().Client)({
    host: target.host,
    port: target.port,
    user: login.login,
    password: login.passwd,
    database: login.database === '' ? undefined : login.database,
    stream: () => sqlSocket(scope, new net.Socket()),
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
