// service=pop and pops (spec §3.3): connect (TLS from the start for pops), read the
// greeting, which must be +OK, then, when login is set, log in the way Mail::POP3Client's
// "BEST" mode does: APOP if the greeting carries a timestamp, then AUTH CRAM-MD5 if CAPA
// lists it, then USER/PASS; finally QUIT. Up when the greeting is +OK and (no login, or
// the login succeeded).
//
// Fixed (spec §10): the original reported pop without login as up even when nothing
// listened; here the +OK greeting is always required.
//
// TLS (pops): as the original's IO::Socket::SSL defaults, the chain is verified against
// the system CA bundle and the real's IP must be named by the certificate (an IP SAN);
// no SNI is sent to an IP (see tls-trust.ts).
//
// Hand-written on LineConnection: the check needs three commands, and the npm POP3
// clients (node-pop3, poplib, yapople) are little used or unmaintained and cannot bound
// what a hostile peer makes them buffer, nor be ended by an AbortSignal.
import { CheckAbort, dial } from './io/dial.js';
import { LineConnection } from './io/lines.js';
import { Outcome } from './outcome.js';
import { accountOf, type Account } from './account.js';
import type { MailCheckOptions } from './mail-options.js';
import { nodeCrypto } from './lazy-module.js';
import { tlsClientOptions } from './tls-trust.js';
import { defineChecker, NEGOTIATETIMEOUT, type CheckResult, type Checker, type Endpoint } from './types.js';

/** Mail::POP3Client's test for an APOP timestamp in the greeting. */
const ATOM = "[-_\\w!#$%&'*+/=?^`{|}~]+";
const APOP_TIMESTAMP = new RegExp(`(<${ATOM}(?:\\.${ATOM})*@${ATOM}(?:\\.${ATOM})*>)`);

async function command(conn: LineConnection, line: string): Promise<string> {
  conn.write(line);
  return conn.readLine();
}

/** Reads a multi-line response body up to the "." line (dot-unstuffed lines). */
async function readMultiline(conn: LineConnection): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await conn.readLine();
    if (line === '.') return lines;
    lines.push(line.startsWith('..') ? line.slice(1) : line);
  }
}

type LoginResult = { ok: true; how: string } | { ok: false; why: string };

async function login(conn: LineConnection, greeting: string, user: string, pass: string): Promise<LoginResult> {
  const failures: string[] = [];
  const stamp = APOP_TIMESTAMP.exec(greeting)?.[1];
  if (stamp) {
    const digest = nodeCrypto()
      .createHash('md5')
      .update(Buffer.from(stamp + pass, 'utf8'))
      .digest('hex');
    const reply = await command(conn, `APOP ${user} ${digest}`);
    if (/^\+OK/i.test(reply)) return { ok: true, how: 'APOP' };
    failures.push(`APOP: ${reply}`);
  }
  const capa = await command(conn, 'CAPA');
  const caps = /^\+OK/i.test(capa) ? await readMultiline(conn) : [];
  if (caps.some((c) => /^SASL.*?\sCRAM-MD5\b/.test(c))) {
    const challenge = await command(conn, 'AUTH CRAM-MD5');
    if (challenge.startsWith('+ ')) {
      const text = Buffer.from(challenge.slice(2).trim(), 'base64');
      const hmac = nodeCrypto().createHmac('md5', Buffer.from(pass, 'utf8')).update(text).digest('hex');
      const reply = await command(conn, Buffer.from(`${user} ${hmac}`, 'utf8').toString('base64'));
      if (/^\+OK/i.test(reply)) return { ok: true, how: 'AUTH CRAM-MD5' };
      failures.push(`AUTH CRAM-MD5: ${reply}`);
    } else {
      failures.push(`AUTH CRAM-MD5: ${challenge}`);
    }
  }
  const userReply = await command(conn, `USER ${user}`);
  if (!/^\+OK/i.test(userReply)) return { ok: false, why: [...failures, `USER: ${userReply}`].join('; ') };
  const passReply = await command(conn, `PASS ${pass}`);
  if (/^\+OK/i.test(passReply)) return { ok: true, how: 'USER/PASS' };
  return { ok: false, why: [...failures, `PASS: ${passReply}`].join('; ') };
}

export async function probePop(
  secure: boolean,
  target: Endpoint,
  account: Account,
  signal: AbortSignal,
  options: MailCheckOptions = {},
): Promise<CheckResult> {
  const outcome = new Outcome();
  const where = `${target.host}:${target.port}`;
  const { login: user, passwd } = account;
  if (/[\r\n]/.test(user + passwd)) return outcome.down('-', { detail: 'login or passwd contains a line break' });
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
    if (!/^\+OK/i.test(greeting)) {
      conn.close();
      return outcome.down('-', { detail: `${where}: greeting is not +OK: ${greeting.slice(0, 200)}` });
    }
    if (user === '') {
      conn.close('QUIT');
      return outcome.up('-', { detail: `${where}: +OK greeting (no login configured)` });
    }
    const result = await login(conn, greeting, user, passwd);
    conn.close('QUIT');
    if (result.ok) return outcome.up('-', { detail: `${where}: logged in as ${user} with ${result.how}` });
    return outcome.down('-', { detail: `${where}: login as ${user} failed: ${result.why.slice(0, 300)}` });
  } catch (err) {
    conn?.close();
    const why = err instanceof CheckAbort ? err.message : (err as Error).message;
    return outcome.down('-', { detail: `${where}: ${why}` });
  }
}

export function createPopChecker(service: 'pop' | 'pops', options: MailCheckOptions = {}): Checker {
  const secure = service === 'pops';
  return defineChecker({
    name: service,
    defaultPort: secure ? 995 : 110,
    timeout: NEGOTIATETIMEOUT,
    options: accountOf,
    probe: (endpoint, account, signal) => probePop(secure, endpoint, account, signal, options),
  });
}

export const popChecker = createPopChecker('pop');
export const popsChecker = createPopChecker('pops');
