// What the SQL checks (mysql.ts, pgsql.ts, oracle.ts) share (spec §3.3): connect as
// login/passwd to `database` on real:checkport, run `request` (leading '/' removed)
// twice, and be up when the second run reports more than 0 rows (SELECT: rows
// returned; other statements: rows affected; Oracle: the one row fetched) with no error.
// A login or query that is empty (or "0", Perl's falsehood) is down without connecting,
// with the original's log line (sqlConfigError).
//
// Timeout: the original had none (a hung database stalled the whole daemon). Fixed
// (spec §10): the whole check runs under negotiatetimeout, like the other services
// that talk a protocol. Memory: at most MAX_SQL_BYTES are read per check (a bigger
// result is down); the query result is the only thing that grows.
import type net from 'node:net';
import { perlTrue } from '../lib/config/perl-values.js';
import type { VirtualService } from '../lib/config/model.js';
import { Scope, why } from './io/deadline.js';
import { capReads } from './io/dial.js';
import { Outcome } from './outcome.js';
import { withoutSlash } from './request.js';
import { defineChecker, NEGOTIATETIMEOUT, type Checker, type CheckTarget, type Endpoint } from './types.js';

export const MAX_SQL_BYTES = 8 * 1024 * 1024;

/** The original's log line when login or request is missing (it then went down). */
export function sqlConfigError(realIp: string): string {
  return 'Error: Must specify a login and request string for MySQL, Oracle and PostgreSQL checks. ' + `Not adding ${realIp}.`;
}

/** The query the original runs, or undefined when it refuses to (see sqlConfigError). */
export function sqlQuery(virtual: Pick<VirtualService, 'login'>, request: string): string | undefined {
  const query = withoutSlash(request);
  return perlTrue(virtual.login) && perlTrue(query) ? query : undefined;
}

/** What a SQL check reads from the config, beyond the endpoint. */
export interface SqlLogin {
  readonly login: string;
  readonly passwd: string;
  /** Empty: the server's default database. */
  readonly database: string;
  /** The check's timeout, for a driver that cannot be handed the signal (oracle.ts). */
  readonly timeoutSeconds: number;
}

/** A socket for a driver that takes one: destroyed with the scope, its reads capped. */
export function sqlSocket(scope: Scope, socket: net.Socket, inspect?: (chunk: Buffer) => string | undefined): net.Socket {
  return capReads(scope.own(socket), MAX_SQL_BYTES, inspect);
}

/** How long a check waits for a polite goodbye (COM_QUIT, Terminate) before closing anyway. */
const GOODBYE_MS = 250;

export function politely(goodbye: Promise<unknown>): Promise<void> {
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

/** Runs the query twice on one connection and returns the second run's row count. */
export type SqlRun = (scope: Scope, target: Endpoint, login: SqlLogin, query: string) => Promise<number>;

export interface SqlCheckerSpec {
  readonly name: 'mysql' | 'pgsql' | 'oracle';
  readonly defaultPort: number;
  readonly run: SqlRun;
  /** Words for a failure the driver reports in its own way (oracle.ts: the module is missing). */
  readonly explain?: (err: unknown) => { detail: string; log?: string[] } | undefined;
}

export function defineSqlChecker(spec: SqlCheckerSpec): Checker {
  return defineChecker({
    name: spec.name,
    defaultPort: spec.defaultPort,
    timeout: NEGOTIATETIMEOUT,
    options: (target: CheckTarget, timeoutSeconds: number): SqlLogin & { query: string | undefined; realIp: string } => ({
      login: target.virtual.login,
      passwd: target.virtual.passwd,
      database: target.virtual.database,
      timeoutSeconds,
      query: sqlQuery(target.virtual, target.request),
      realIp: target.real.ip,
    }),
    async probe(target, login, signal) {
      const out = new Outcome();
      const query = login.query;
      if (query === undefined) {
        return out.down('-', { detail: 'login or request is empty', log: [sqlConfigError(login.realIp)] });
      }
      const scope = new Scope(signal);
      try {
        const rows = await scope.race(spec.run(scope, target, login, query));
        return rows > 0 ? out.up('-', { detail: `${rows} row(s)` }) : out.down('-', { detail: 'no rows' });
      } catch (err) {
        const explained = scope.isAborted ? undefined : spec.explain?.(err);
        return out.down('-', explained ?? { detail: why(err, scope) });
      } finally {
        scope.close();
      }
    },
  });
}
