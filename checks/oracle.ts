// service=oracle (spec §3.3; the frame is in sql.ts) with oracledb in its Thin mode (pure
// JS; the Thick-mode binaries in the package are never loaded). oracledb is an optional
// dependency: without it the check is down and says so, in the log too.
//
// oracledb cannot take a socket: when the check's signal aborts the check stops waiting,
// and what the driver still has in flight is ended by the driver's own connect and
// per-round-trip timeouts, set to the check's timeout so that it never outlives it by
// more than that.
import { isModuleMissing, lazyModule } from './lazy-module.js';
import { defineSqlChecker, politely, type SqlRun } from './sql.js';

export const ORACLE_MODULE = 'oracledb';

/** The log line (and detail) when oracledb is not installed. */
export function oracleMissing(id: string): string {
  return `The oracle check needs the npm package ${id}, which is not installed (it is an optional dependency of ldirectord-ts).`;
}

export function createOracleChecker(moduleId = ORACLE_MODULE) {
  const oracledb = lazyModule<typeof import('oracledb')>(moduleId);
  const runOracle: SqlRun = async (scope, target, login, query) => {
    const driver = oracledb();
    const connectString =
      `(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=${target.host})(PORT=${target.port}))` + `(CONNECT_DATA=(SID=${login.database})))`;
    const leftover = Math.max(1, login.timeoutSeconds);
    const pending = driver.getConnection({
      user: login.login,
      password: login.passwd,
      connectString,
      connectTimeout: leftover,
      transportConnectTimeout: leftover,
    });
    // If the check is over before the connection is, close it when it arrives.
    scope.defer(() => {
      pending.then((c) => c.close()).catch(() => undefined);
    });
    const conn = await pending;
    conn.callTimeout = leftover * 1000;
    try {
      await conn.execute(query, [], { maxRows: 1 });
      const second = await conn.execute(query, [], { maxRows: 1 });
      return second.rows ? second.rows.length : Number(second.rowsAffected ?? 0);
    } finally {
      await politely(conn.close());
    }
  };
  return defineSqlChecker({
    name: 'oracle',
    defaultPort: 1521,
    run: runOracle,
    explain: (err) => (isModuleMissing(err, moduleId) ? { detail: oracleMissing(moduleId), log: [oracleMissing(moduleId)] } : undefined),
  });
}

export const oracleChecker = createOracleChecker();
