// service=smtp and submission (spec §3.3): connect, read the 220 greeting, EHLO (HELO
// if EHLO is refused) as localhost.localdomain, QUIT. No STARTTLS and no AUTH, as the
// original (Net::SMTP). Up when the greeting and EHLO-or-HELO are accepted.
//
// Spoken here on a LineConnection: the check is three commands, and the reply rules it
// needs (multi-line replies, the code of the first line decides) are a few lines. The
// connection caps what the server may send (SMTP_MAX_BYTES), and the runner's signal
// ends it at once.
import { dial } from './io/dial.js';
import { LineConnection } from './io/lines.js';
import { Outcome } from './outcome.js';
import { defineChecker, NEGOTIATETIMEOUT, type CheckResult, type Endpoint } from './types.js';

export const SMTP_HELO_NAME = 'localhost.localdomain';
export const SMTP_MAX_BYTES = 64 * 1024;

/**
 * One reply: its lines joined by "\n" (RFC 5321 §4.2.1: "250-" lines continue, the line
 * after them ends it). Blank lines before a reply are skipped.
 */
async function readReply(conn: LineConnection): Promise<string> {
  const lines: string[] = [];
  for (;;) {
    const line = await conn.readLine();
    if (lines.length === 0 && line.trim() === '') continue;
    lines.push(line);
    if (!/^\d+-/.test(line)) return lines.join('\n');
  }
}

async function command(conn: LineConnection, line: string): Promise<string> {
  conn.write(line);
  return readReply(conn);
}

/** The greeting, then EHLO or HELO; resolves with the command that was accepted. */
async function hello(conn: LineConnection): Promise<'EHLO' | 'HELO'> {
  const greeting = await readReply(conn);
  if (!greeting.startsWith('220')) throw new Error(`Invalid greeting. response=${greeting}`);
  const ehlo = await command(conn, `EHLO ${SMTP_HELO_NAME}`);
  if (/^421/.test(ehlo)) throw new Error(`Server terminates connection. response=${ehlo}`);
  if (ehlo.startsWith('2')) return 'EHLO';
  const helo = await command(conn, `HELO ${SMTP_HELO_NAME}`);
  if (!helo.startsWith('2')) throw new Error(`Invalid HELO. response=${helo}`);
  return 'HELO';
}

export async function probeSmtp(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
  const outcome = new Outcome();
  const where = `${target.host}:${target.port}`;
  let conn: LineConnection | undefined;
  try {
    const socket = await dial({ host: target.host, port: target.port, signal });
    conn = new LineConnection(socket, signal, { maxLine: SMTP_MAX_BYTES, maxBytes: SMTP_MAX_BYTES });
    const accepted = await hello(conn);
    conn.close('QUIT');
    return outcome.up('-', { detail: `${where}: greeting and ${accepted} accepted` });
  } catch (err) {
    conn?.close();
    return outcome.down('-', { detail: `${where}: ${(err as Error).message}` });
  }
}

function smtpChecker(name: 'smtp' | 'submission', defaultPort: number) {
  return defineChecker({
    name,
    defaultPort,
    timeout: NEGOTIATETIMEOUT,
    options: () => ({}),
    probe: (endpoint, _options, signal) => probeSmtp(endpoint, signal),
  });
}

export const smtpServiceChecker = smtpChecker('smtp', 25);
export const submissionChecker = smtpChecker('submission', 587);
