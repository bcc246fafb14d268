import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus, EmailSettings, VirtualService } from '../../lib/config/model.js';
import {
  ALERT_TEXT,
  EmailAlerter,
  ReminderTable,
  alertBody,
  alertSubject,
  type AlertVirtual,
  type EmailAlerterOptions,
} from '../../lib/daemon/alerts.js';
import { parse } from '../config/parse-helpers.js';

// Loopback addresses owned by this file: 127.0.0.30-39.
const SMTP_HOST = '127.0.0.31';
const DEAD_HOST = '127.0.0.32';
const REFUSED_HOST = '127.0.0.33';

interface Received {
  from: string;
  to: string[];
  helo: string;
  data: string;
}

let dir: string;
let smtp: SMTPServer;
let smtpPort: number;
const received: Received[] = [];
let dead: Server;
let deadPort: number;
const deadSockets: Socket[] = [];
let refusedPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldts-alerts-'));
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          helo: `${session.openingCommand} ${session.hostNameAppearsAs}`,
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, SMTP_HOST, resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  // Accepts connections and never says a word.
  dead = createServer((s) => {
    deadSockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => dead.listen(0, DEAD_HOST, resolve));
  deadPort = (dead.address() as AddressInfo).port;

  // A port nobody listens on.
  const tmp = createServer();
  await new Promise<void>((resolve) => tmp.listen(0, REFUSED_HOST, resolve));
  refusedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((resolve) => tmp.close(() => resolve()));
});

afterAll(async () => {
  for (const s of deadSockets) s.destroy();
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function email(p: Partial<EmailSettings> & { emailalertRaw?: string }): EmailSettings {
  const raw = p.emailalertRaw ?? (p.emailalert ?? []).join(', ');
  return {
    emailalert: p.emailalert ?? [],
    emailalertRaw: raw,
    emailalertfreq: p.emailalertfreq ?? 0,
    emailalertstatus: p.emailalertstatus ?? new Set<DaemonStatus>(['starting', 'running', 'stopping', 'reloading']),
    ...(p.smtp !== undefined ? { smtp: p.smtp } : {}),
  };
}

function virtual(e: EmailSettings, extra: Partial<AlertVirtual> = {}): AlertVirtual {
  return { name: '10.0.0.1:80', email: e, ...extra };
}

function harness(over: Partial<EmailAlerterOptions> = {}) {
  const logs: string[] = [];
  let status: DaemonStatus = 'running';
  let clock = 1_000_000_000_000;
  const alerter = new EmailAlerter({
    log: (m) => logs.push(m),
    status: () => status,
    hostname: 'director1',
    user: 'root',
    now: () => clock,
    smtpPort,
    ...over,
  });
  return {
    alerter,
    logs,
    setStatus: (s: DaemonStatus) => (status = s),
    advance: (ms: number) => (clock += ms),
  };
}

function splitMail(data: string): { headers: Map<string, string>; body: string } {
  const i = data.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of data.slice(0, i).split('\r\n')) {
    const c = line.indexOf(':');
    headers.set(line.slice(0, c).toLowerCase(), line.slice(c + 2));
  }
  return { headers, body: data.slice(i + 4) };
}

async function nextMails(count: number, from: number, timeoutMs = 5000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  while (received.length < from + count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} mails, got ${received.length - from}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return received.slice(from, from + count);
}

describe('texts', () => {
  it('subject prefix and body, exactly', () => {
    expect(alertSubject('Deleted real server: 127.0.0.2:80 (10.0.0.1:80)', 'web')).toBe(
      '[web] Deleted real server: 127.0.0.2:80 (10.0.0.1:80)',
    );
    expect(alertSubject('x', undefined)).toBe('x');
    expect(alertSubject('x', '0')).toBe('x'); // Perl truth
    expect(alertBody({ hostname: 'h', subject: 's', status: 'running' })).toBe(
      'ldirectord host: h\nLog-Message: s\nDaemon-Status: running\n',
    );
    expect(alertBody({ hostname: 'h', subject: '[web] s', status: 'stopping', servicename: 'web', comment: 'Web farm' })).toBe(
      'ldirectord host: h\nLog-Message: [web] s\nDaemon-Status: stopping\n\nService name: web\nComment: Web farm\n\n',
    );
    expect(alertBody({ hostname: 'h', subject: 's', status: 'starting', comment: 'c' })).toBe(
      'ldirectord host: h\nLog-Message: s\nDaemon-Status: starting\n\nComment: c\n\n',
    );
    expect(ALERT_TEXT.reminder('127.0.0.2:80 (10.0.0.1:80)')).toBe('Inaccessible real server: 127.0.0.2:80 (10.0.0.1:80)');
  });
});

describe('ReminderTable', () => {
  type Ctx = { freq: number };
  it('arms, clears and fires every freq seconds', () => {
    const t = new ReminderTable<Ctx>((c) => c.freq);
    t.record('a', 1000, { freq: 60 });
    t.record('b', 1000, { freq: 0 }); // freq 0: never armed
    t.record('c', 2000, { freq: 30 });
    expect(t.ids()).toEqual(['a', 'c']);
    expect(t.due(31_999)).toEqual([]);
    expect(t.due(32_000).map((r) => r.id)).toEqual(['c']);
    expect(t.due(32_000)).toEqual([]); // reset
    expect(t.due(61_000).map((r) => r.id)).toEqual(['a']);
    expect(t.due(62_000).map((r) => r.id)).toEqual(['c']);
    t.record('c', null, { freq: 30 }); // restored
    expect(t.has('c')).toBe(false);
    t.record('a', 70_000, { freq: 0 }); // any call with freq 0 clears
    expect(t.size).toBe(0);
  });

  it('re-arming restarts the timer; rebind keeps timers and drops vanished ids', () => {
    const t = new ReminderTable<Ctx>((c) => c.freq);
    t.record('a', 0, { freq: 10 });
    t.record('a', 5000, { freq: 10 });
    expect(t.due(10_000)).toEqual([]);
    expect(t.due(15_000).map((r) => r.id)).toEqual(['a']);
    t.record('b', 15_000, { freq: 10 });
    t.rebind((id, c) => (id === 'a' ? { freq: c.freq * 2 } : undefined));
    expect(t.ids()).toEqual(['a']);
    expect(t.due(25_000)).toEqual([]);
    expect(t.due(35_000).map((r) => [r.id, r.context.freq])).toEqual([['a', 20]]);
  });
});

describe('SMTP (real server)', () => {
  it('one RCPT per address, headers and body byte for byte', async () => {
    const { alerter, logs } = harness({ emailalertfrom: '"LD Alerts" <ld@example.com>' });
    const e = email({
      emailalert: ['ops@example.com', 'noc@example.org'],
      emailalertRaw: 'ops@example.com, noc@example.org',
      smtp: SMTP_HOST,
    });
    const start = received.length;
    alerter.alert({
      subject: 'Quiescent real server: 127.0.0.2:8080 (10.0.0.1:80) (Weight set to 0)',
      virtual: virtual(e, { servicename: 'web', comment: 'Web farm' }),
      real: '127.0.0.2:8080',
      remind: true,
    });
    const [m] = await nextMails(1, start);
    await alerter.idle();
    expect(m!.from).toBe('root@director1');
    expect(m!.to).toEqual(['ops@example.com', 'noc@example.org']);
    expect(m!.helo).toBe('EHLO localhost.localdomain');
    const { headers, body } = splitMail(m!.data);
    expect(headers.get('from')).toBe('"LD Alerts" <ld@example.com>');
    expect(headers.get('to')).toBe('ops@example.com, noc@example.org');
    expect(headers.get('subject')).toBe('[web] Quiescent real server: 127.0.0.2:8080 (10.0.0.1:80) (Weight set to 0)');
    expect(headers.get('content-transfer-encoding')).toBe('7bit');
    expect(body).toBe(
      'ldirectord host: director1\r\n' +
        'Log-Message: [web] Quiescent real server: 127.0.0.2:8080 (10.0.0.1:80) (Weight set to 0)\r\n' +
        'Daemon-Status: running\r\n' +
        '\r\n' +
        'Service name: web\r\n' +
        'Comment: Web farm\r\n' +
        '\r\n',
    );
    expect(logs).toEqual(['emailalert: Quiescent real server: 127.0.0.2:8080 (10.0.0.1:80) (Weight set to 0)']);
    expect(alerter.stats).toEqual({ sent: 1, failed: 0, dropped: 0 });
  });

  it('From is <user>@<hostname> without emailalertfrom; lines starting with a dot survive', async () => {
    const { alerter, setStatus } = harness();
    setStatus('stopping');
    const e = email({ emailalert: ['a@example.com'], smtp: SMTP_HOST });
    const start = received.length;
    alerter.alert({
      subject: 'Purged real server (stop): 127.0.0.2:80 (10.0.0.1:80)',
      virtual: virtual(e, { comment: '.dot' }),
      real: '127.0.0.2:80',
      remind: false,
    });
    const [m] = await nextMails(1, start);
    const { headers, body } = splitMail(m!.data);
    expect(headers.get('from')).toBe('root@director1');
    expect(headers.get('subject')).toBe('Purged real server (stop): 127.0.0.2:80 (10.0.0.1:80)');
    expect(body).toBe(
      'ldirectord host: director1\r\nLog-Message: Purged real server (stop): 127.0.0.2:80 (10.0.0.1:80)\r\n' +
        'Daemon-Status: stopping\r\n\r\nComment: .dot\r\n\r\n',
    );
    await alerter.idle();
  });

  it('emailalertstatus filters on the daemon status (after bookkeeping); empty emailalert sends nothing', async () => {
    const { alerter, logs, setStatus } = harness();
    const e = email({
      emailalert: ['a@example.com'],
      smtp: SMTP_HOST,
      emailalertfreq: 60,
      emailalertstatus: new Set<DaemonStatus>(['running']),
    });
    const start = received.length;
    setStatus('starting');
    alerter.alert({ subject: 'Deleted real server: 127.0.0.5:80 (10.0.0.1:80)', virtual: virtual(e), real: '127.0.0.5:80', remind: true });
    expect(alerter.reminders.ids()).toEqual(['127.0.0.5:80 (10.0.0.1:80)']); // armed although not sent
    setStatus('running');
    alerter.alert({ subject: 'Deleted real server: 127.0.0.6:80 (10.0.0.1:80)', virtual: virtual(e), real: '127.0.0.6:80', remind: true });
    alerter.alert({
      subject: 'Added real server: 127.0.0.7:80 (10.0.0.1:80) (Weight set to 1)',
      virtual: virtual(email({ smtp: SMTP_HOST })),
      real: '127.0.0.7:80',
      remind: false,
    });
    await alerter.idle();
    await new Promise((r) => setTimeout(r, 100));
    const mails = received.slice(start);
    expect(mails.map((m) => splitMail(m.data).headers.get('subject'))).toEqual(['Deleted real server: 127.0.0.6:80 (10.0.0.1:80)']);
    expect(logs).toEqual(['emailalert: Deleted real server: 127.0.0.6:80 (10.0.0.1:80)']);
  });

  it('reminders: Inaccessible real server every emailalertfreq seconds, until restored', async () => {
    const { alerter, logs, advance } = harness();
    const e = email({ emailalert: ['a@example.com'], smtp: SMTP_HOST, emailalertfreq: 60 });
    const v = virtual(e, { servicename: 'web' });
    const start = received.length;
    alerter.alert({ subject: 'Deleted real server: 127.0.0.2:80 (10.0.0.1:80)', virtual: v, real: '127.0.0.2:80', remind: true });
    advance(59_999);
    expect(alerter.sendReminders()).toBe(0);
    advance(1);
    expect(alerter.sendReminders()).toBe(1);
    advance(30_000);
    expect(alerter.sendReminders()).toBe(0);
    advance(30_000);
    expect(alerter.sendReminders()).toBe(1);
    alerter.alert({
      subject: 'Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)',
      virtual: v,
      real: '127.0.0.2:80',
      remind: false,
    });
    advance(600_000);
    expect(alerter.sendReminders()).toBe(0);
    const mails = await nextMails(4, start);
    await alerter.idle();
    expect(mails.map((m) => splitMail(m.data).headers.get('subject'))).toEqual([
      '[web] Deleted real server: 127.0.0.2:80 (10.0.0.1:80)',
      '[web] Inaccessible real server: 127.0.0.2:80 (10.0.0.1:80)',
      '[web] Inaccessible real server: 127.0.0.2:80 (10.0.0.1:80)',
      '[web] Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)',
    ]);
    expect(splitMail(mails[1]!.data).body).toBe(
      'ldirectord host: director1\r\nLog-Message: [web] Inaccessible real server: 127.0.0.2:80 (10.0.0.1:80)\r\n' +
        'Daemon-Status: running\r\n\r\nService name: web\r\n\r\n',
    );
    expect(logs[1]).toBe('emailalert: Inaccessible real server: 127.0.0.2:80 (10.0.0.1:80)');
  });

  it('works with a virtual from the real config parser', async () => {
    const r = await parse(
      `emailalert="ops@example.com,noc@example.org"\nsmtp=${SMTP_HOST}\nemailalertfrom=ld@example.com\n` +
        'virtual=10.0.0.1:80\n\treal=127.0.0.2:80 gate\n\tservicename=www\n\tcomment=front end\n',
    );
    const v: VirtualService = r.config!.virtuals[0]!;
    const { alerter } = harness({ emailalertfrom: r.config!.globals.emailalertfrom });
    const start = received.length;
    alerter.alert({ subject: 'Deleted real server: 127.0.0.2:80 (10.0.0.1:80)', virtual: v, real: '127.0.0.2:80', remind: true });
    const [m] = await nextMails(1, start);
    expect(m!.to).toEqual(['ops@example.com', 'noc@example.org']);
    const { headers, body } = splitMail(m!.data);
    expect(headers.get('to')).toBe('ops@example.com,noc@example.org');
    expect(headers.get('from')).toBe('ld@example.com');
    expect(body).toContain('\r\n\r\nService name: www\r\nComment: front end\r\n\r\n');
    await alerter.idle();
  });
});

describe('a mail server that is down or slow never delays the caller', () => {
  it('accepts and never answers: alert() returns at once, the failure is logged later', async () => {
    const { alerter, logs } = harness({ smtpPort: deadPort, timeouts: { greetingMs: 400, totalMs: 2000 } });
    const e = email({ emailalert: ['a@example.com'], smtp: DEAD_HOST });
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) {
      alerter.alert({
        subject: `Deleted real server: 127.0.0.${i}:80 (10.0.0.1:80)`,
        virtual: virtual(e),
        real: `127.0.0.${i}:80`,
        remind: false,
      });
    }
    const callMs = performance.now() - t0;
    expect(callMs).toBeLessThan(50);
    expect(logs).toHaveLength(3);
    await alerter.idle();
    const total = performance.now() - t0;
    expect(logs.slice(3)).toEqual([ALERT_TEXT.smtpFailed, ALERT_TEXT.smtpFailed, ALERT_TEXT.smtpFailed]);
    expect(total).toBeGreaterThan(3 * 350);
    expect(total).toBeLessThan(5000);
    expect(alerter.stats).toEqual({ sent: 0, failed: 3, dropped: 0 });
  });

  it('queue full: the oldest waiting mail is dropped and logged as failed', async () => {
    const { alerter, logs } = harness({ smtpPort: deadPort, maxQueued: 2, timeouts: { greetingMs: 300 } });
    const e = email({ emailalert: ['a@example.com'], smtp: DEAD_HOST });
    const send = (i: number) => alerter.alert({ subject: `s${i}`, virtual: virtual(e), real: `127.0.0.${i}:80`, remind: false });
    send(0);
    await new Promise((r) => setImmediate(r)); // s0 is now being sent
    const t0 = performance.now();
    for (let i = 1; i < 5; i++) send(i);
    expect(performance.now() - t0).toBeLessThan(50);
    // s0 is being sent, s1 and s2 were pushed out by s3 and s4.
    expect(logs).toEqual([
      'emailalert: s0',
      'emailalert: s1',
      'emailalert: s2',
      'emailalert: s3',
      ALERT_TEXT.smtpFailed,
      'emailalert: s4',
      ALERT_TEXT.smtpFailed,
    ]);
    expect(alerter.stats.dropped).toBe(2);
    await alerter.idle();
    expect(alerter.stats).toEqual({ sent: 0, failed: 5, dropped: 2 });
  });

  it('connection refused fails fast', async () => {
    const { alerter, logs } = harness({ smtpPort: refusedPort });
    alerter.alert({
      subject: 'x',
      virtual: virtual(email({ emailalert: ['a@example.com'], smtp: REFUSED_HOST })),
      real: '1.1.1.1:80',
      remind: false,
    });
    await alerter.idle();
    expect(logs).toEqual(['emailalert: x', ALERT_TEXT.smtpFailed]);
  });
});

describe('local sendmail', () => {
  function standIn(name: string, script: string): string {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${script}\n`);
    chmodSync(p, 0o755);
    return p;
  }

  it('runs the first executable sendmail with the recipients; message with LF line ends', async () => {
    const out = join(dir, 'sm1');
    const sm = standIn('sendmail1', `printf '%s\\n' "$@" > ${out}.argv; cat > ${out}.stdin`);
    const { alerter, logs } = harness({
      sendmailPaths: [join(dir, 'missing-sendmail'), sm],
      emailalertfrom: '"LD Alerts" <ld@example.com>',
    });
    const e = email({ emailalert: ['ops@example.com', 'noc@example.org'], emailalertRaw: 'ops@example.com, noc@example.org' });
    alerter.alert({
      subject: 'Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)',
      virtual: virtual(e, { servicename: 'web' }),
      real: '127.0.0.1:80',
      remind: false,
    });
    await alerter.idle();
    expect(logs).toEqual(['emailalert: Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)']);
    expect(readFileSync(`${out}.argv`, 'utf8')).toBe('-i\nops@example.com\nnoc@example.org\n');
    const msg = readFileSync(`${out}.stdin`, 'utf8');
    expect(msg).not.toContain('\r');
    const [head, ...rest] = msg.split('\n\n');
    const headers = head!.split('\n');
    expect(headers.slice(0, 3)).toEqual([
      'From: "LD Alerts" <ld@example.com>',
      'To: ops@example.com, noc@example.org',
      'Subject: [web] Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)',
    ]);
    expect(rest.join('\n\n')).toBe(
      'ldirectord host: director1\nLog-Message: [web] Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)\n' +
        'Daemon-Status: running\n\nService name: web\n\n',
    );
  });

  it('no From header without emailalertfrom (sendmail adds one, as with Mail::Send)', async () => {
    const out = join(dir, 'sm2');
    const sm = standIn('sendmail2', `cat > ${out}.stdin`);
    const { alerter } = harness({ sendmailPaths: [sm] });
    alerter.alert({ subject: 's', virtual: virtual(email({ emailalert: ['a@example.com'] })), real: '1.1.1.1:80', remind: false });
    await alerter.idle();
    const msg = readFileSync(`${out}.stdin`, 'utf8');
    expect(msg.startsWith('To: a@example.com\nSubject: s\n')).toBe(true);
    expect(msg).not.toMatch(/^From:/m);
  });

  it('failures log "failed to send email message": exit status, no sendmail, hung sendmail', async () => {
    const failing = standIn('sendmail-fail', 'cat >/dev/null; exit 75');
    const hung = standIn('sendmail-hung', 'exec sleep 30');
    const e = email({ emailalert: ['a@example.com'] });
    for (const paths of [[failing], [join(dir, 'nope1'), join(dir, 'nope2')], [hung]]) {
      const { alerter, logs } = harness({ sendmailPaths: paths, timeouts: { totalMs: 500 } });
      const t0 = performance.now();
      alerter.alert({ subject: 's', virtual: virtual(e), real: '1.1.1.1:80', remind: false });
      expect(performance.now() - t0).toBeLessThan(50);
      await alerter.idle();
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(logs).toEqual(['emailalert: s', ALERT_TEXT.sendmailFailed]);
    }
    expect(existsSync(hung)).toBe(true);
  });
});
