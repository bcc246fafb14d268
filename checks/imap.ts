// service=imap and imaps (spec §3.3): connect (TLS from the start for imaps), read one
// greeting line, which must be "* OK" or "* PREAUTH"; when login is set, LOGIN and
// wait for the tagged reply; then LOGOUT. Up when the greeting (and the login, if
// configured) succeeded. No STARTTLS, as Net::IMAP::Simple.
//
// Fixed (spec §10): the original's library retried a failed connect after 5 s; here a
// check is one attempt and always ends by the runner's signal (negotiatetimeout).
//
// TLS (imaps): as the original's IO::Socket::SSL defaults, the chain is verified against
// the system CA bundle and the real's IP must be named by the certificate (an IP SAN);
// no SNI is sent to an IP (see tls-trust.ts).
//
// Hand-written on LineConnection: greeting + LOGIN + LOGOUT is all the check needs;
// imapflow (the maintained client) adds CAPABILITY, ID, ENABLE, COMPRESS and an
// automatic STARTTLS to every check, and neither it nor node-imap can bound what a
// hostile server makes them buffer or be ended by an AbortSignal.
import { CheckAbort, dial } from './io/dial.js';
import { LineConnection } from './io/lines.js';
import { Outcome } from './outcome.js';
import { accountOf, type Account } from './account.js';
import type { MailCheckOptions } from './mail-options.js';
import { tlsClientOptions } from './tls-trust.js';
import { defineChecker, NEGOTIATETIMEOUT, type CheckResult, type Checker, type Endpoint } from './types.js';

/** An IMAP quoted string (RFC 3501 `quoted`). */
export function imapQuote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export async function probeImap(
  secure: boolean,
  target: Endpoint,
  account: Account,
  signal: AbortSignal,
  options: MailCheckOptions = {},
): Promise<CheckResult> {
  const outcome = new Outcome();
  const where = `${target.host}:${target.port}`;
  const { login: user, passwd } = account;
  if (/[\r\n\0]/.test(user + passwd)) return outcome.down('-', { detail: 'login or passwd contains a line break or NUL' });
  let conn: LineConnection | undefined;
  try {
    const socket = await dial({
      host: target.host,
      port: target.port,
      signal,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      ...(secure ? { tls: tlsClientOptions(target.host, options.trust, true) } : {}),
    });
    conn = new LineConnection(socket, signal);
    const greeting = await conn.readLine();
    if (!/^\*\s+(?:OK|PREAUTH)/i.test(greeting)) {
      conn.close();
      return outcome.down('-', { detail: `${where}: greeting is not * OK: ${greeting.slice(0, 200)}` });
    }
    if (user === '') {
      conn.close('A2 LOGOUT');
      return outcome.up('-', { detail: `${where}: * OK greeting (no login configured)` });
    }
    conn.write(`A1 LOGIN ${imapQuote(user)} ${imapQuote(passwd)}`);
    for (;;) {
      const line = await conn.readLine();
      if (!/^A1\s/i.test(line)) continue; // untagged data (CAPABILITY and the like)
      conn.close('A2 LOGOUT');
      if (/^A1\s+OK/i.test(line)) return outcome.up('-', { detail: `${where}: logged in as ${user}` });
      return outcome.down('-', { detail: `${where}: login as ${user} failed: ${line.slice(0, 300)}` });
    }
  } catch (err) {
    conn?.close();
    const why = err instanceof CheckAbort ? err.message : (err as Error).message;
    return outcome.down('-', { detail: `${where}: ${why}` });
  }
}

export function createImapChecker(service: 'imap' | 'imaps', options: MailCheckOptions = {}): Checker {
  const secure = service === 'imaps';
  return defineChecker({
    name: service,
    defaultPort: secure ? 993 : 143,
    timeout: NEGOTIATETIMEOUT,
    options: accountOf,
    probe: (endpoint, account, signal) => probeImap(secure, endpoint, account, signal, options),
  });
}

export const imapChecker = createImapChecker('imap');
export const imapsChecker = createImapChecker('imaps');
