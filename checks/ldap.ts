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
import type net from 'node:net';
import type tls from 'node:tls';
import { perlTrue } from '../lib/config/perl-values.js';
import { bracketed } from './io/address.js';
import { Scope, why } from './io/deadline.js';
import { capReads, dialIn } from './io/dial.js';
import { lazyModule } from './lazy-module.js';
import { Outcome } from './outcome.js';
import { matchReceive } from './receive-match.js';
import { CHECKTIMEOUT, defineChecker, type Checker } from './types.js';

const ldapts = lazyModule<typeof import('ldapts')>('ldapts');

export const LDAP_MESSAGES = {
  success: 'Success',
  connectionFailed: 'Connection failed',
  bindFailed: 'Bind failed',
  noAnswer: 'No answer received',
  mismatch: 'Response mismatch',
} as const;

/** Bytes one check may read before the connection is dropped (the check is then down). */
export const MAX_LDAP_BYTES = 1024 * 1024;

export function ldapChecker(name: 'ldap' | 'ldaps'): Checker {
  return defineChecker({
    name,
    defaultPort: name === 'ldap' ? 389 : 636,
    timeout: CHECKTIMEOUT,
    // negotiatetimeout is the library's connect timeout inside the checktimeout alarm (spec §3.3).
    options: ({ virtual: v }) => ({ login: v.login, passwd: v.passwd, connectTimeoutSeconds: v.negotiatetimeout }),
    async probe(target, v, signal) {
      const out = new Outcome();
      const secure = name === 'ldaps';
      const scope = new Scope(signal);
      const M = LDAP_MESSAGES;
      try {
        let socket: net.Socket;
        try {
          socket = await dialIn(scope, {
            host: target.host,
            port: target.port,
            connectTimeoutMs: v.connectTimeoutSeconds * 1000,
            // ldaps certificates are not verified, as Net::LDAP's defaults.
            ...(secure ? { tls: { rejectUnauthorized: false } } : {}),
          });
        } catch (err) {
          return out.down(scope.isAborted ? M.noAnswer : M.connectionFailed, { detail: why(err, scope) });
        }
        let Client: typeof import('ldapts').Client;
        try {
          ({ Client } = ldapts());
        } catch (err) {
          socket.destroy();
          return out.down(M.connectionFailed, { detail: `ldapts: ${(err as Error).message}` });
        }
        const handOver = (() => capReads(socket, MAX_LDAP_BYTES)) as unknown as typeof net.connect;
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
          const found = await scope.race(client.search(base, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] }));
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
        if (verdict.kind === 'unfinished')
          return out.down(signal.aborted ? M.noAnswer : M.mismatch, { detail: `dn: ${dn}; ${verdict.detail}` });
        return out.down(M.mismatch, { detail: `dn: ${dn}` });
      } catch (err) {
        return out.down(M.noAnswer, { detail: why(err, scope) });
      } finally {
        scope.close();
      }
    },
  });
}

export const ldapCheckerPlain: Checker = ldapChecker('ldap');
export const ldapsChecker: Checker = ldapChecker('ldaps');
