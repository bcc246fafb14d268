// service=smtp and submission (spec §3.3): connect, read the 220 greeting, EHLO (HELO
// if EHLO is refused) as localhost.localdomain, QUIT. No STARTTLS and no AUTH, as the
// original (Net::SMTP). Up when the greeting and EHLO-or-HELO are accepted.
//
// Library: nodemailer's SMTPConnection (already a dependency for the e-mail alerts,
// maintained, RFC 5321 reply parsing with multi-line replies and the EHLO→HELO
// fallback built in). We open the socket ourselves and hand it over (`connection`), so
// the bytes read are counted and capped, and the runner's signal ends it at once.
import type SMTPConnectionType from 'nodemailer/lib/smtp-connection';
import type { VirtualService } from '../lib/config/model.js';
import { openSocket } from './connection.js';
import { Outcome } from './outcome.js';
import type { CheckResult, CheckTarget, Checker } from './types.js';

// nodemailer is loaded on the first smtp check, not with the registry (~9 MB of RSS in
// every daemon; issue 7, RSS < 200 MB).
type SmtpModule = { default: typeof SMTPConnectionType };
let smtpModule: Promise<SmtpModule> | undefined;
const loadSmtp = (): Promise<SmtpModule> =>
  (smtpModule ??= import('nodemailer/lib/smtp-connection') as Promise<SmtpModule>);

export const SMTP_HELO_NAME = 'localhost.localdomain';
export const SMTP_MAX_BYTES = 64 * 1024;

export async function probeSmtp(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
  const outcome = new Outcome();
  const where = `${target.host}:${target.port}`;
  let socket;
  try {
    socket = await openSocket({ host: target.host, port: target.port, signal });
  } catch (err) {
    return outcome.down('-', { detail: `${where}: ${(err as Error).message}` });
  }
  let SMTPConnection: typeof SMTPConnectionType;
  try {
    SMTPConnection = (await loadSmtp()).default;
  } catch (err) {
    socket.destroy();
    return outcome.down('-', { detail: `${where}: nodemailer: ${(err as Error).message}` });
  }
  const timeoutMs = Math.max(1, target.virtual.negotiatetimeout) * 1000;
  const connection = new SMTPConnection({
    connection: socket,
    host: target.host,
    port: target.port,
    name: SMTP_HELO_NAME,
    ignoreTLS: true,
    secure: false,
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    socketCloseTimeout: 0,
    maxResponseSize: SMTP_MAX_BYTES,
  });
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let bytes = 0;
    const finish = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => {
      finish(outcome.down('-', { detail: `${where}: timed out` }));
      connection.close();
      socket.destroy();
    };
    // Count what the server sends; the listener is added before nodemailer's own, and
    // the pause keeps the greeting buffered until nodemailer resumes the socket.
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > SMTP_MAX_BYTES) {
        socket.destroy();
        finish(outcome.down('-', { detail: `${where}: server sent more than ${SMTP_MAX_BYTES} bytes` }));
      }
    });
    socket.pause();
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    connection.on('error', (err: Error) => {
      finish(outcome.down('-', { detail: `${where}: ${err.message}` }));
      connection.close();
    });
    connection.on('end', () => finish(outcome.down('-', { detail: `${where}: connection closed` })));
    connection.connect(() => {
      const ehlo = (connection as unknown as { _ehloLines?: unknown })._ehloLines ? 'EHLO' : 'HELO';
      connection.quit();
      finish(outcome.up('-', { detail: `${where}: greeting and ${ehlo} accepted` }));
    });
  });
}

function smtpChecker(name: 'smtp' | 'submission', defaultPort: number): Checker {
  return {
    name,
    defaultPort,
    timeoutSeconds: (virtual: VirtualService) => virtual.negotiatetimeout,
    probe: probeSmtp,
  };
}

export const smtpServiceChecker = smtpChecker('smtp', 25);
export const submissionChecker = smtpChecker('submission', 587);
