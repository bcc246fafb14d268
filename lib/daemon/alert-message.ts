// The alert e-mail's texts (spec §5), pure. The subject and body are the
// original's byte for byte; the message is composed here as raw RFC 5322 text so
// no MIME encoder re-wraps the body (quoted-printable soft breaks) or reformats
// the verbatim From (`"LD Alerts" <ld@example.com>`) and To headers.
import { nodeCrypto } from '../../checks/lazy-module.js';
import type { DaemonStatus } from '../config/model.js';
import { perlTrue } from '../config/perl-values.js';
import { encodeHeaderWords } from './header-words.js';

export const ALERT_TEXT = {
  /** Logged for every alert that passes the filters (the subject without the servicename prefix). */
  logged: (subject: string) => `emailalert: ${subject}`,
  smtpFailed: 'failed to send SMTP email message',
  sendmailFailed: 'failed to send email message',
  reminder: (id: string) => `Inaccessible real server: ${id}`,
} as const;

/** The alert id `<rip:port> (<virtual>)`, the key of the reminder table. */
export function alertId(real: string, virtualName: string): string {
  return `${real} (${virtualName})`;
}

/** `[<servicename>] <subject>` when servicename is set. */
export function alertSubject(subject: string, servicename?: string): string {
  return perlTrue(servicename) ? `[${servicename}] ${subject}` : subject;
}

export interface AlertBodyFields {
  readonly hostname: string;
  /** The subject with its servicename prefix. */
  readonly subject: string;
  readonly status: DaemonStatus;
  readonly servicename?: string | undefined;
  readonly comment?: string | undefined;
}

/** The body, exactly as the original writes it (LF line ends). */
export function alertBody(f: AlertBodyFields): string {
  let details = '';
  if (perlTrue(f.servicename)) details += `Service name: ${f.servicename}\n`;
  if (perlTrue(f.comment)) details += `Comment: ${f.comment}\n`;
  return (
    `ldirectord host: ${f.hostname}\n` + `Log-Message: ${f.subject}\n` + `Daemon-Status: ${f.status}\n` + (details ? `\n${details}\n` : '')
  );
}

export interface RawMailFields {
  /** From header, verbatim (absent: no From header, the local sendmail adds one). */
  readonly from?: string | undefined;
  /** To header, verbatim: the emailalert value as written. */
  readonly to: string;
  readonly subject: string;
  readonly body: string;
  readonly date: Date;
  /** Right-hand side of the Message-ID. */
  readonly hostname: string;
  /** Line end of the result: CRLF for SMTP, LF for a local sendmail. */
  readonly newline: '\r\n' | '\n';
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A header value with line breaks flattened; non-ASCII text as RFC 2047 words. */
function headerText(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return PRINTABLE_ASCII.test(flat) ? flat : encodeHeaderWords(flat);
}

/** RFC 5322 date as nodemailer writes it: `Wed, 25 Nov 2026 02:43:43 +0000`. */
function mailDate(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** The whole message: headers, blank line, body. */
export function composeRawMail(f: RawMailFields): string {
  const ascii = Buffer.byteLength(f.body) === f.body.length;
  const headers = [
    ...(f.from !== undefined ? [`From: ${headerText(f.from)}`] : []),
    `To: ${headerText(f.to)}`,
    `Subject: ${headerText(f.subject)}`,
    `Date: ${mailDate(f.date)}`,
    `Message-ID: <${nodeCrypto().randomBytes(12).toString('hex')}.ldirectord@${f.hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'}>`,
    'MIME-Version: 1.0',
    `Content-Type: text/plain; charset=${ascii ? 'us-ascii' : 'utf-8'}`,
    `Content-Transfer-Encoding: ${ascii ? '7bit' : '8bit'}`,
  ];
  const text = `${headers.join('\n')}\n\n${f.body}`;
  return f.newline === '\n' ? text : text.replace(/\r?\n/g, '\r\n');
}
