// The daemon's log (spec §6). The destination is chosen like the original's
// ld_log, first matching rule wins:
//   1. -d               stderr, `<message>` (after a `DEBUG2: <message>` line)
//   2. supervised=yes   stdout, `[<ctime>] <message>`
//   3. logfile=/path    append `[<ctime>|<CFGNAME>|<pid>] <message>` (stderr if that fails)
//   4. logfile=<other>  syslog, facility <other> (unknown names: daemon), priority info
// File and syslog output is asynchronous and batched (append-file.ts, syslog.ts):
// `log()` never blocks on I/O and never throws. Lines the logfile could not take
// (disk full, directory gone) go to stderr, and once it takes lines again, one
// line says how many it missed (lostLogLines).
import { ctime } from './ctime.js';
import { AppendFile, type LostLines } from './append-file.js';
import { syslogFacility, type Facility } from './facilities.js';
import { SyslogSender } from './syslog.js';

export type LogTarget =
  | { readonly kind: 'debug' }
  | { readonly kind: 'supervised' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'syslog'; readonly facility: Facility };

export interface TargetSettings {
  /** -d */
  readonly debug: boolean;
  /** supervised=yes */
  readonly supervised: boolean;
  /** logfile= (GlobalSettings.logfile) */
  readonly logfile: string;
}

export function logTarget(s: TargetSettings): LogTarget {
  if (s.debug) return { kind: 'debug' };
  if (s.supervised) return { kind: 'supervised' };
  if (s.logfile.startsWith('/')) return { kind: 'file', path: s.logfile };
  return { kind: 'syslog', facility: syslogFacility(s.logfile) };
}

/** Perl's chomp: one trailing newline goes. */
export function chomp(message: string): string {
  return message.endsWith('\n') ? message.slice(0, -1) : message;
}

/** A logfile line, newline included: `[<ctime>|<CFGNAME>|<pid>] <message>\n`. */
export function formatFileLine(date: Date, cfgname: string, pid: number, message: string): string {
  return `[${ctime(date)}|${cfgname}|${pid}] ${message}\n`;
}

/** The logfile's line, once it works again, about the lines it did not get. */
export function lostLogLines(path: string, lost: LostLines): string {
  const n = `${lost.lines} log line${lost.lines === 1 ? '' : 's'}`;
  return `Could not write ${n} to ${path} from ${ctime(lost.since)} on: ${lost.error.message}`;
}

/** A supervised (stdout) line, newline included: `[<ctime>] <message>\n`. */
export function formatSupervisedLine(date: Date, message: string): string {
  return `[${ctime(date)}] ${message}\n`;
}

/** A debug line, newline included: `DEBUG<level>: <message>\n`. */
export function formatDebugLine(level: number, message: string): string {
  return `DEBUG${level}: ${message}\n`;
}

/** The original's $DEBUG: 3 with -d, else 0. */
export const DEBUG_LEVEL_WITH_D = 3;

export interface TextSink {
  write(text: string): unknown;
}

export interface LoggerOptions extends TargetSettings {
  /** Config basename (`ldirectord`, `test1.cf`) for logfile lines. */
  readonly cfgname: string;
  /** Default process.pid. */
  readonly pid?: number;
  /** Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Default process.stdout / process.stderr. */
  readonly stdout?: TextSink;
  readonly stderr?: TextSink;
  /** Syslog socket, default /dev/log (tests use their own). */
  readonly syslogSocket?: string;
  /** logger(1) to run, default `logger` from $PATH. */
  readonly loggerCommand?: string;
  /** Bounds, see append-file.ts and syslog.ts. */
  readonly maxQueuedFileBytes?: number;
  readonly maxQueuedSyslogMessages?: number;
}

export class Logger {
  private opts: LoggerOptions;
  private targetNow: LogTarget;
  private file: AppendFile | null = null;
  private syslog: SyslogSender | null = null;
  private readonly pid: number;
  private readonly now: () => Date;
  /** Outputs replaced by reconfigure() that may still hold queued text. */
  private retired: Promise<void>[] = [];

  constructor(opts: LoggerOptions) {
    this.opts = opts;
    this.pid = opts.pid ?? process.pid;
    this.now = opts.now ?? (() => new Date());
    this.targetNow = logTarget(opts);
    this.openTarget();
  }

  // Looked up when written to: process.stdout and process.stderr are created on first
  // access (a stream each), which a `status` that logs to a file need not pay.
  private get stdout(): TextSink {
    return this.opts.stdout ?? process.stdout;
  }

  private get stderr(): TextSink {
    return this.opts.stderr ?? process.stderr;
  }

  get target(): LogTarget {
    return this.targetNow;
  }

  /** 3 with -d, else 0: `debug(level, …)` prints when level <= this. */
  get debugLevel(): number {
    return this.opts.debug ? DEBUG_LEVEL_WITH_D : 0;
  }

  /** ld_log. Never throws, never waits for I/O. */
  log(message: string): void {
    this.debug(2, message);
    const msg = chomp(message);
    const t = this.targetNow;
    switch (t.kind) {
      case 'debug':
        this.stderr.write(`${msg}\n`);
        return;
      case 'supervised':
        this.stdout.write(formatSupervisedLine(this.now(), msg));
        return;
      case 'file':
        this.file!.append(formatFileLine(this.now(), this.opts.cfgname, this.pid, msg));
        return;
      case 'syslog':
        this.syslog!.send(msg);
        return;
    }
  }

  /** ld_debug: `DEBUG<level>: <message>` on stderr when level <= debugLevel. */
  debug(level: number, message: string): void {
    if (this.debugLevel >= level) this.stderr.write(formatDebugLine(level, chomp(message)));
  }

  /**
   * After a reload: the new config's supervised/logfile/cfgname (-d cannot
   * change). Text already queued for the old destination is still written there.
   */
  reconfigure(s: { readonly supervised: boolean; readonly logfile: string; readonly cfgname?: string }): void {
    const next: LoggerOptions = { ...this.opts, supervised: s.supervised, logfile: s.logfile, cfgname: s.cfgname ?? this.opts.cfgname };
    const target = logTarget(next);
    this.opts = next;
    if (sameTarget(target, this.targetNow)) return;
    this.retireOutputs();
    this.targetNow = target;
    this.openTarget();
  }

  /** Reopen the logfile before the next write (SIGHUP, after rotation). */
  reopen(): void {
    this.file?.reopen();
  }

  /** Resolves once everything logged so far has been written or has failed over. */
  async flush(): Promise<void> {
    await Promise.all([...this.retired, this.file?.flush(), this.syslog?.flush()]);
  }

  /** For the exit path: writes queued logfile lines with blocking calls. */
  flushSync(): void {
    this.file?.flushSync();
  }

  async close(): Promise<void> {
    this.retireOutputs();
    await Promise.all(this.retired);
    this.retired = [];
  }

  private openTarget(): void {
    const t = this.targetNow;
    if (t.kind === 'file') {
      this.file = new AppendFile(t.path, {
        // The original prints the bare message to stderr when the file fails.
        onWriteError: (text) => this.stderr.write(stripFilePrefixes(text)),
        resumeNotice: (lost) => formatFileLine(this.now(), this.opts.cfgname, this.pid, lostLogLines(t.path, lost)),
        now: this.now,
        ...(this.opts.maxQueuedFileBytes !== undefined ? { maxQueuedBytes: this.opts.maxQueuedFileBytes } : {}),
      });
    } else if (t.kind === 'syslog') {
      this.syslog = new SyslogSender({
        facility: t.facility,
        pid: this.pid,
        ...(this.opts.syslogSocket !== undefined ? { socketPath: this.opts.syslogSocket } : {}),
        ...(this.opts.loggerCommand !== undefined ? { loggerCommand: this.opts.loggerCommand } : {}),
        ...(this.opts.maxQueuedSyslogMessages !== undefined ? { maxQueued: this.opts.maxQueuedSyslogMessages } : {}),
        // Undelivered messages go to stderr, as a failed logfile write does.
        onFailure: (messages, reason) => {
          if (messages.length === 0) this.stderr.write(`${reason}\n`);
          for (const m of messages) this.stderr.write(`${m}\n`);
        },
      });
    }
  }

  private retireOutputs(): void {
    if (this.file) this.retired.push(this.file.close());
    if (this.syslog) this.retired.push(this.syslog.flush());
    this.file = null;
    this.syslog = null;
  }
}

function sameTarget(a: LogTarget, b: LogTarget): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.path === b.path;
  if (a.kind === 'syslog' && b.kind === 'syslog') return a.facility.name === b.facility.name;
  return a.kind === b.kind;
}

/** `[<ctime>|<cfg>|<pid>] msg\n` lines back to `msg\n` (stderr fallback). */
function stripFilePrefixes(text: string): string {
  return text.replace(/^\[[^|\]\n]*\|[^\n]*?\|\d+\] /gm, '');
}
