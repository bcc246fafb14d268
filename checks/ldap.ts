// service=ldap / ldaps (spec §3.3): connect (ldaps: TLS, certificate not verified)
// within negotiatetimeout; simple bind as login/passwd when both are set (Perl-true),
// else anonymous; then a base-scope search of `request` minus its first character
// with filter (objectClass=*). Up when exactly one entry comes back and (receive is
// empty or the entry's DN matches receive). The whole check runs under checktimeout.
//
// Monitor messages are the original's: Success, Connection failed, Bind failed,
// No answer received, Response mismatch. The original logs a failed connect or bind
// twice (the second time as "No answer received", an artefact of returning from
// inside an eval); here the check reports once, with the first, meaningful message.
//
// Library: ldapts (TypeScript, maintained, promise API, no native code). We open the
// socket ourselves and hand it to ldapts, so that the connect can be told from the
// bind, TLS is set up as the original did, and every byte read is counted: a peer
// that sends more than MAX_LDAP_BYTES is cut off (ldapts itself buffers without limit).
// The search asks for no attributes ("1.1"): only the DN is used, so the reply stays small.
import net from 'node:net';
import tls from 'node:tls';
import type { Checker, CheckResult, CheckTarget } from './types.js';
import { Outcome } from './outcome.js';
import { bracketed, perlTrue, Scope, why } from './data-io.js';
import { matchReceive } from './receive-match.js';

// ldapts is loaded on the first ldap check, not with the registry (~7 MB of RSS in every
// daemon; issue 7, RSS < 200 MB).
let ldaptsModule: Promise<typeof import('ldapts')> | undefined;
const loadLdapts = (): Promise<typeof import('ldapts')> => (ldaptsModule ??= import('ldapts'));

export const LDAP_MESSAGES = {
  success: 'Success',
  connectionFailed: 'Connection failed',
  bindFailed: 'Bind failed',
  noAnswer: 'No answer received',
  mismatch: 'Response mismatch',
} as const;

/** Bytes one check may read before the connection is dropped (the check is then down). */
export const MAX_LDAP_BYTES = 1024 * 1024;

function connect(scope: Scope, secure: boolean, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const socket = scope.own(
    secure
      ? tls.connect({ host, port, rejectUnauthorized: false })
      : net.connect({ host, port }),
  );
  return scope.race(
    new Promise<net.Socket>((resolve, reject) => {
      const connected = secure ? 'secureConnect' : 'connect';
      const fail = (err: Error): void => {
        done();
        reject(err);
      };
      const closed = (): void => fail(new Error('connection closed'));
      const ok = (): void => {
        done();
        resolve(socket);
      };
      const timer = setTimeout(() => fail(new Error('connect timeout')), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        socket.off(connected, ok);
        socket.off('error', fail);
        socket.off('close', closed);
      };
      scope.defer(() => clearTimeout(timer));
      socket.once(connected, ok);
      socket.once('error', fail);
      socket.once('close', closed);
    }),
  );
}

function capped(socket: net.Socket, limit: number): net.Socket {
  let seen = 0;
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) socket.destroy(new Error(`more than ${limit} bytes received`));
  });
  return socket;
}

export function ldapChecker(name: 'ldap' | 'ldaps'): Checker {
  return {
    name,
    defaultPort: name === 'ldap' ? 389 : 636,
    timeoutSeconds: (virtual) => virtual.checktimeout,
    async probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
      const out = new Outcome();
      const v = target.virtual;
      const secure = name === 'ldaps';
      const scope = new Scope(signal);
      const M = LDAP_MESSAGES;
      try {
        let socket: net.Socket;
        try {
          socket = await connect(scope, secure, target.host, target.port, v.negotiatetimeout * 1000);
        } catch (err) {
          return out.down(scope.isAborted ? M.noAnswer : M.connectionFailed, { detail: why(err, scope) });
        }
        let Client: typeof import('ldapts').Client;
        try {
          ({ Client } = await loadLdapts());
        } catch (err) {
          socket.destroy();
          return out.down(M.connectionFailed, { detail: `ldapts: ${(err as Error).message}` });
        }
        const handOver = (() => capped(socket, MAX_LDAP_BYTES)) as unknown as typeof net.connect;
        const client = new Client({
          url: `${secure ? 'ldaps' : 'ldap'}://${bracketed(target.host)}:${target.port}`,
          strictDN: false,
          createConnection: handOver,
          createSecureConnection: handOver as unknown as typeof tls.connect,
        });
        scope.defer(() => {
          void client.unbind().catch(() => undefined);
        });
        const login = perlTrue(v.login) && perlTrue(v.passwd);
        try {
          await scope.race(login ? client.bind(v.login, v.passwd) : client.bind('', ''));
        } catch (err) {
          const detail = `${login ? `bind as ${v.login}` : 'anonymous bind'}: ${why(err, scope)}`;
          return out.down(scope.isAborted ? M.noAnswer : M.bindFailed, { detail });
        }
        const base = target.request.slice(1);
        let dns: string[];
        try {
          const found = await scope.race(
            client.search(base, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] }),
          );
          dns = found.searchEntries.map((e) => e.dn);
        } catch (err) {
          return out.down(M.noAnswer, { detail: `search of "${base}": ${why(err, scope)}` });
        }
        if (dns.length !== 1) return out.down(M.noAnswer, { detail: `search of "${base}" returned ${dns.length} entries` });
        const dn = dns[0] as string;
        // Perl: `!($recstr =~ /.+/) || $dn =~ /$recstr/`
        if (!/.+/.test(target.receive)) return out.up(M.success, { detail: `dn: ${dn}` });
        const verdict = await matchReceive(target.receive, dn, signal);
        if (verdict.kind === 'match') return out.up(M.success, { detail: `dn: ${dn}` });
        if (verdict.kind === 'unfinished') return out.down(signal.aborted ? M.noAnswer : M.mismatch, { detail: `dn: ${dn}; ${verdict.detail}` });
        return out.down(M.mismatch, { detail: `dn: ${dn}` });
      } catch (err) {
        return out.down(M.noAnswer, { detail: why(err, scope) });
      } finally {
        scope.close();
      }
    },
  };
}

export const ldapCheckerPlain: Checker = ldapChecker('ldap');
export const ldapsChecker: Checker = ldapChecker('ldaps');
