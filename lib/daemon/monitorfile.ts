// The per-virtual monitorfile (spec §6 "monitorfile"): one line per check result
// that carries the original's do_log flag,
//   [<ctime>] [<pid>] <real id, ':' runs -> ' ', '\' removed> [<up|down>] <message>
// with '%', '|', CR and LF in the message escaped as %xx (lower-case hex) and
// `-` for a result without a message. The man page's `[timestamp|pid|…]` is wrong.
import { ctime } from '../log/ctime.js';
import { AppendFile } from '../log/append-file.js';
import { errnoText } from '../config/perl-values.js';

export interface MonitorLine {
  readonly date: Date;
  readonly pid: number;
  /** The original's real id string, e.g. `negotiate:http:tcp:127.0.0.2:8080:…`. */
  readonly realId: string;
  readonly state: 'up' | 'down';
  /** The check's message; undefined is written as `-`. */
  readonly message?: string | undefined;
}

/** `tr/:/ /s` then `s/\\//g`: runs of ':' become one space, backslashes go. */
export function monitorRealId(realId: string): string {
  return realId.replace(/:+/g, ' ').replace(/\\/g, '');
}

/** `%`, `|`, CR and LF as `%25`, `%7c`, `%0d`, `%0a`. */
export function escapeMonitorMessage(message: string): string {
  return message.replace(/[%|\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One monitorfile line, newline included. */
export function formatMonitorLine(l: MonitorLine): string {
  const message = escapeMonitorMessage(l.message ?? '-');
  return `[${ctime(l.date)}] [${l.pid}] ${monitorRealId(l.realId)} [${l.state}] ${message}\n`;
}

/** The original dies with this when a monitorfile cannot be written. */
export function monitorWriteError(path: string, err: unknown): string {
  return `Error writing to monitorfile '${path}': ${errnoText(err)}`;
}

export interface MonitorFilesOptions {
  /**
   * A write failed. The original dies (`monitorWriteError(path, err)`); the
   * caller decides (log it and stop, or carry on).
   */
  readonly onError: (path: string, err: Error, lostText: string) => void;
  readonly pid?: number;
  readonly now?: () => Date;
}

/** Appenders for every monitorfile in use, keyed by path (several virtuals may share one). */
export class MonitorFiles {
  private readonly files = new Map<string, AppendFile>();
  private readonly opts: MonitorFilesOptions;
  private readonly pid: number;
  private readonly now: () => Date;

  constructor(opts: MonitorFilesOptions) {
    this.opts = opts;
    this.pid = opts.pid ?? process.pid;
    this.now = opts.now ?? (() => new Date());
  }

  /** Queues one line for `path`. Never throws, never waits. */
  write(path: string, realId: string, state: 'up' | 'down', message?: string): void {
    this.appendLine(path, formatMonitorLine({ date: this.now(), pid: this.pid, realId, state, message }));
  }

  /** Queues an already formatted line (newline included). */
  appendLine(path: string, line: string): void {
    let f = this.files.get(path);
    if (!f) {
      f = new AppendFile(path, { onWriteError: (text, err) => this.opts.onError(path, err, text) });
      this.files.set(path, f);
    }
    f.append(line);
  }

  /** After a reload: closes the files no virtual uses any more. */
  async retain(paths: Iterable<string>): Promise<void> {
    const keep = new Set(paths);
    const gone = [...this.files].filter(([p]) => !keep.has(p));
    for (const [p] of gone) this.files.delete(p);
    await Promise.all(gone.map(([, f]) => f.close()));
  }

  reopen(): void {
    for (const f of this.files.values()) f.reopen();
  }

  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.flush()));
  }

  flushSync(): void {
    for (const f of this.files.values()) f.flushSync();
  }

  async close(): Promise<void> {
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.all(all.map((f) => f.close()));
  }
}
