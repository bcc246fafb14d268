// E-mail alerts (spec §5), sent with nodemailer.
//
// alert(event): bookkeeping first (reminder table), then the filters
// (emailalertstatus must include the daemon status, emailalert must be
// non-empty), then `emailalert: <subject>` is logged and the mail is queued.
// Sending never delays the caller: alert() and sendReminders() only queue.
// One mail is sent at a time, in order, each with timeouts (connect, greeting,
// socket inactivity, and an overall deadline that also kills a hung sendmail).
// The queue holds at most `maxQueued` mails waiting behind the one being sent;
// when it is full the oldest waiting mail is dropped and its failure is logged
// (`failed to send … email message`), so the newest state of the cluster is
// what gets through a slow mail server.
//
// Transport: `smtp=` (the virtual's, else the global) is SMTP to <host>:25 with
// EHLO localhost.localdomain, MAIL FROM <user>@<hostname> and, unlike the
// original (§10), one RCPT TO per emailalert address. No smtp= means the local
// sendmail (/usr/sbin/sendmail, else /usr/lib/sendmail), given the addresses as
// arguments. The headers are the original's: From (emailalertfrom verbatim, else
// <user>@<hostname>; for sendmail only when emailalertfrom is set), To (the
// emailalert value as written), Subject.
import { spawnGroup, type GroupChild } from '../proc/run-bounded.js';
import { constants as fsConstants, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { hostname as osHostname, userInfo } from 'node:os';
// nodemailer is loaded with the first alert, not with the daemon (most configs send none).
let nodemailer: Promise<typeof import('nodemailer')> | undefined;
const loadNodemailer = (): Promise<typeof import('nodemailer')> => (nodemailer ??= import('nodemailer'));
import type { DaemonStatus, VirtualService } from '../config/model.js';
import { ReminderTable } from './alert-reminders.js';
import { ALERT_TEXT, alertBody, alertId, alertSubject, composeRawMail } from './alert-message.js';

export { ALERT_TEXT, alertBody, alertId, alertSubject, composeRawMail } from './alert-message.js';
export { ReminderTable } from './alert-reminders.js';

/** What an alert needs of its virtual; a VirtualService is one. */
export type AlertVirtual = Pick<VirtualService, 'name' | 'email' | 'servicename' | 'comment'>;

export interface AlertEvent {
  /** The log text, e.g. `Deleted real server: 127.0.0.2:80 (10.0.0.1:80)`. */
  readonly subject: string;
  readonly virtual: AlertVirtual;
  /** `<rip:port>` as the log lines write it. */
  readonly real: string;
  /**
   * True for a quiesce, readd or delete of a non-fallback real: arms the
   * reminder. False (add, restore, fallback delete, purge) clears it.
   */
  readonly remind: boolean;
}

export interface ReminderContext {
  readonly virtual: AlertVirtual;
  readonly real: string;
}

export const DEFAULT_SENDMAIL_PATHS = ['/usr/sbin/sendmail', '/usr/lib/sendmail'] as const;
export const SMTP_PORT = 25;
export const EHLO_NAME = 'localhost.localdomain';

export interface AlertTimeouts {
  /** TCP connect (and DNS). Default 10 s. */
  readonly connectMs?: number;
  /** Server greeting after connect. Default 10 s. */
  readonly greetingMs?: number;
  /** Inactivity during the SMTP dialogue. Default 30 s. */
  readonly socketMs?: number;
  /** Whole send, either transport; a sendmail still running is killed. Default 60 s. */
  readonly totalMs?: number;
}

export interface EmailAlerterOptions {
  /** ld_log. */
  readonly log: (message: string) => void;
  /** Detail on failures (the original logs none): ld_debug. */
  readonly debug?: (level: number, message: string) => void;
  /** The daemon status at the time of the alert. */
  readonly status: () => DaemonStatus;
  /** The global emailalertfrom (change it with setEmailAlertFrom after a reload). */
  readonly emailalertfrom?: string | undefined;
  /** Default os.hostname() (Perl's Sys::Hostname). */
  readonly hostname?: string;
  /** Default the login name of the real uid (getpwuid($<)). */
  readonly user?: string;
  /** Milliseconds, default Date.now. */
  readonly now?: () => number;
  /** Default 25: the original cannot use another; tests can. */
  readonly smtpPort?: number;
  /** Default DEFAULT_SENDMAIL_PATHS: the first executable one is used. */
  readonly sendmailPaths?: readonly string[];
  readonly timeouts?: AlertTimeouts;
  /** Mails waiting behind the one being sent. Default 100. */
  readonly maxQueued?: number;
}

type Transport = { readonly kind: 'smtp'; readonly host: string } | { readonly kind: 'sendmail' };

interface Job {
  readonly transport: Transport;
  readonly from: string | undefined;
  readonly envelopeFrom: string | undefined;
  readonly to: readonly string[];
  readonly toHeader: string;
  readonly subject: string;
  readonly body: string;
  readonly date: Date;
}

export interface AlerterStats {
  sent: number;
  failed: number;
  dropped: number;
}

export class EmailAlerter {
  readonly reminders = new ReminderTable<ReminderContext>((c) => c.virtual.email.emailalertfreq);
  readonly stats: AlerterStats = { sent: 0, failed: 0, dropped: 0 };
  private readonly opts: EmailAlerterOptions;
  private readonly hostname: string;
  private readonly user: string;
  private readonly now: () => number;
  private emailalertfrom: string | undefined;
  private queue: Job[] = [];
  private worker: Promise<void> | null = null;
  private closed = false;

  constructor(opts: EmailAlerterOptions) {
    this.opts = opts;
    this.hostname = opts.hostname ?? osHostname();
    this.user = opts.user ?? realUserName();
    this.now = opts.now ?? Date.now;
    this.emailalertfrom = opts.emailalertfrom;
  }

  setEmailAlertFrom(from: string | undefined): void {
    this.emailalertfrom = from;
  }

  /** ld_emailalert_send. Never throws, never waits for the mail. */
  alert(ev: AlertEvent): void {
    const now = this.now();
    this.reminders.record(alertId(ev.real, ev.virtual.name), ev.remind ? now : null, {
      virtual: ev.virtual,
      real: ev.real,
    });
    this.send(ev.subject, ev.virtual, now);
  }

  /**
   * ld_emailalert_resend, after each main-loop sleep: `Inaccessible real
   * server: <id>` for every reminder that is due. Returns how many were due.
   */
  sendReminders(): number {
    const now = this.now();
    const due = this.reminders.due(now);
    for (const r of due) this.send(ALERT_TEXT.reminder(r.id), r.context.virtual, now);
    return due.length;
  }

  /** Resolves when every queued mail has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  /** Stops taking alerts; waits for the queue (each mail is bounded by its timeouts). */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private send(subject: string, v: AlertVirtual, nowMs: number): void {
    const status = this.opts.status();
    if (!v.email.emailalertstatus.has(status)) return;
    if (v.email.emailalert.length === 0) return;
    this.opts.log(ALERT_TEXT.logged(subject));
    const fullSubject = alertSubject(subject, v.servicename);
    const transport: Transport = v.email.smtp !== undefined ? { kind: 'smtp', host: v.email.smtp } : { kind: 'sendmail' };
    const self = `${this.user}@${this.hostname}`;
    this.enqueue({
      transport,
      from: transport.kind === 'smtp' ? (this.emailalertfrom ?? self) : this.emailalertfrom,
      envelopeFrom: transport.kind === 'smtp' ? self : undefined,
      to: v.email.emailalert,
      toHeader: v.email.emailalertRaw,
      subject: fullSubject,
      body: alertBody({
        hostname: this.hostname,
        subject: fullSubject,
        status,
        servicename: v.servicename,
        comment: v.comment,
      }),
      date: new Date(nowMs),
    });
  }

  private enqueue(job: Job): void {
    if (this.closed) {
      this.fail(job, 'alerter closed');
      return;
    }
    const max = this.opts.maxQueued ?? 100;
    if (this.queue.length >= max) {
      const dropped = this.queue.shift()!;
      this.stats.dropped++;
      this.fail(dropped, 'alert queue full, oldest waiting mail dropped');
    }
    this.queue.push(job);
    this.worker ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      // Nothing of the sending runs on the caller's stack.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        const job = this.queue.shift()!;
        try {
          await this.deliver(job);
          this.stats.sent++;
        } catch (err) {
          this.fail(job, err instanceof Error ? err.message : String(err));
        }
      }
    } finally {
      this.worker = null;
    }
  }

  private fail(job: Job, reason: string): void {
    this.stats.failed++;
    this.opts.log(job.transport.kind === 'smtp' ? ALERT_TEXT.smtpFailed : ALERT_TEXT.sendmailFailed);
    this.opts.debug?.(2, `emailalert: ${job.subject}: ${reason}`);
  }

  private async deliver(job: Job): Promise<void> {
    const t = this.opts.timeouts ?? {};
    const totalMs = t.totalMs ?? 60_000;
    const raw = composeRawMail({
      from: job.from,
      to: job.toHeader,
      subject: job.subject,
      body: job.body,
      date: job.date,
      hostname: this.hostname,
      newline: job.transport.kind === 'smtp' ? '\r\n' : '\n',
    });
    const envelope = { ...(job.envelopeFrom !== undefined ? { from: job.envelopeFrom } : {}), to: [...job.to] };
    const { createTransport } = await loadNodemailer();
    const spawned: GroupChild[] = [];
    let transporter;
    if (job.transport.kind === 'smtp') {
      transporter = createTransport({
        host: job.transport.host,
        port: this.opts.smtpPort ?? SMTP_PORT,
        secure: false,
        // The original speaks plain SMTP; an MTA's self-signed STARTTLS
        // certificate must not make alerts fail.
        ignoreTLS: true,
        name: EHLO_NAME,
        connectionTimeout: t.connectMs ?? 10_000,
        greetingTimeout: t.greetingMs ?? 10_000,
        socketTimeout: t.socketMs ?? 30_000,
        dnsTimeout: t.connectMs ?? 10_000,
        logger: false,
      });
    } else {
      const path = await firstExecutable(this.opts.sendmailPaths ?? DEFAULT_SENDMAIL_PATHS);
      if (path === undefined) throw new Error('no sendmail found');
      transporter = createTransport({ sendmail: true, path, logger: false });
      // nodemailer spawns sendmail through this (its documented test hook): as its own
      // process group, killed whole at the overall deadline (a queue runner it forked
      // must not outlive a sendmail that hangs).
      const inner = (transporter as unknown as { transporter?: { _spawn?: unknown } }).transporter;
      if (inner && typeof inner._spawn === 'function') {
        inner._spawn = (cmd: string, args: string[]) => {
          const g = spawnGroup(cmd, args, ['pipe', 'ignore', 'ignore']);
          spawned.push(g);
          return g.child;
        };
      }
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        transporter.sendMail({ envelope, raw }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${totalMs} ms`)), totalMs);
        }),
      ]);
    } catch (err) {
      for (const g of spawned) if (g.child.exitCode === null && g.child.signalCode === null) void g.kill(0);
      throw err;
    } finally {
      clearTimeout(timer);
      transporter.close();
    }
  }
}

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      await access(p, fsConstants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** getpwuid($<): the login name of the real uid. */
export function realUserName(): string {
  const uid = process.getuid?.();
  if (uid === undefined || uid === process.geteuid?.()) {
    try {
      return userInfo().username;
    } catch {
      return String(uid ?? 'root');
    }
  }
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    // fall through
  }
  return String(uid);
}
