// An SMTP receiver on <host>:25 (the original cannot send to any other port), keeping every
// message with its envelope, so the alerts of the two directors can be compared.
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface Mail {
  readonly at: number;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** The body, CRLFs as LFs. */
  readonly body: string;
  /**
   * Header lines other than Date and Message-ID (they differ by nature), and other than MIME
   * headers that state RFC 2045's defaults for a message without them (ours sends them, the
   * original does not; a reader sees the same text/plain US-ASCII message either way).
   */
  readonly headers: readonly string[];
}

export interface SmtpSink {
  readonly host: string;
  readonly mails: Mail[];
  close(): Promise<void>;
}

const MIME_DEFAULTS = new Set(['mime-version: 1.0', 'content-type: text/plain; charset=us-ascii', 'content-transfer-encoding: 7bit']);

export function parseMail(at: number, from: string, to: readonly string[], raw: string): Mail {
  const text = raw.replace(/\r\n/g, '\n');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 2);
  // Unfold continuation lines before splitting the header.
  const headers = head
    .replace(/\n[ \t]+/g, ' ')
    .split('\n')
    .filter((l) => l !== '');
  const subject = headers.find((h) => /^subject:/i.test(h))?.replace(/^subject:\s*/i, '') ?? '';
  return {
    at,
    from,
    to,
    subject,
    body,
    headers: headers.filter((h) => !/^(date|message-id):/i.test(h) && !MIME_DEFAULTS.has(h.toLowerCase().replace(/\s+/g, ' '))),
  };
}

export async function startSmtpSink(host: string, port = 25): Promise<SmtpSink> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push(
          parseMail(
            Date.now(),
            from,
            session.envelope.rcptTo.map((r) => r.address),
            Buffer.concat(chunks).toString('utf8'),
          ),
        );
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { host, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
