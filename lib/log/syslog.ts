// Syslog output: RFC 3164 datagrams on the local unix socket (/dev/log), ident
// `ldirectord`, option pid, priority info for every message, the configured
// facility (spec §6, rule 4).
//
// Node has no unix datagram sockets, and the npm packages that add them are
// native addons (unix-dgram: node-gyp build; node-unix-socket: prebuilt Rust
// binaries per platform). Instead the datagrams are sent by logger(1) from
// util-linux (Debian's bsdutils, an Essential package, so it is on every
// machine that has Perl's ldirectord today):
//   logger --socket <path> --socket-errors=on -p <facility>.info -t ldirectord --id=<pid>
// which writes `<PRI>Mmm dd hh:mm:ss ldirectord[<pid>]: <message>`, the same
// header glibc's syslog(3) and Perl's Sys::Syslog write, one datagram per line
// of its standard input. One logger process is run per batch: messages queued
// while a batch is being sent go in the next one, so a busy daemon spawns a few
// processes a second at most, and every batch opens the socket afresh (a
// restarted syslog daemon is picked up with no reconnect logic). A batch that
// fails (no socket, logger missing, timeout) is handed to `onFailure` so the
// logger can fall back to stderr; the queue is bounded, the oldest messages are
// dropped first and counted.
import type { Facility } from './facilities.js';
import { describeEnd, runBounded } from '../proc/run-bounded.js';

export const SEVERITY_INFO = 6;
export const SYSLOG_IDENT = 'ldirectord';
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

/** PRI of an info message: facility * 8 + 6. */
export function infoPri(f: Facility): number {
  return f.code * 8 + SEVERITY_INFO;
}

export interface SyslogSenderOptions {
  readonly facility: Facility;
  /** The pid in the header (`ldirectord[<pid>]`). */
  readonly pid: number;
  /** Default /dev/log. */
  readonly socketPath?: string;
  /** Default `logger` from $PATH. */
  readonly loggerCommand?: string;
  /** Messages that were not (or maybe not) delivered, with a reason. */
  readonly onFailure: (messages: readonly string[], reason: string) => void;
  /** Queued messages beyond which the oldest are dropped. Default 10,000. */
  readonly maxQueued?: number;
  /** Messages per logger process. Default 1,000. */
  readonly maxBatch?: number;
  /** A logger process still running after this is killed and its batch failed. Default 10 s. */
  readonly batchTimeoutMs?: number;
}

export class SyslogSender {
  private readonly opts: SyslogSenderOptions;
  private queue: string[] = [];
  private dropped = 0;
  private sender: Promise<void> | null = null;

  constructor(opts: SyslogSenderOptions) {
    this.opts = opts;
  }

  /** Queues one message. Never throws, never waits. */
  send(message: string): void {
    const max = this.opts.maxQueued ?? 10_000;
    if (this.queue.length >= max) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(message);
    this.sender ??= this.drain();
  }

  /** Resolves once everything queued so far has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.sender) await this.sender;
  }

  /** The logger(1) arguments used for every batch. */
  loggerArgs(): string[] {
    const o = this.opts;
    return [
      '--socket',
      o.socketPath ?? DEFAULT_SYSLOG_SOCKET,
      '--socket-errors=on',
      '-p',
      `${o.facility.name}.info`,
      '-t',
      SYSLOG_IDENT,
      `--id=${o.pid}`,
      // Whole messages, like Sys::Syslog (logger's default splits at 1 KiB).
      '--size',
      '65536',
    ];
  }

  private async drain(): Promise<void> {
    try {
      // Not on the caller's stack, and every message logged in this tick joins the batch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        if (this.dropped > 0) {
          this.opts.onFailure([], `syslog queue full: ${this.dropped} message(s) dropped`);
          this.dropped = 0;
        }
        const batch = this.queue.splice(0, this.opts.maxBatch ?? 1000);
        const failure = await this.runLogger(batch);
        if (failure !== null) this.opts.onFailure(batch, failure);
      }
    } finally {
      this.sender = null;
    }
  }

  /** Runs one logger process for a batch; null on success, else the reason. */
  private async runLogger(batch: readonly string[]): Promise<string | null> {
    const timeoutMs = this.opts.batchTimeoutMs ?? 10_000;
    // Its own process group, killed whole at the deadline, pipes included.
    const r = await runBounded(this.opts.loggerCommand ?? 'logger', this.loggerArgs(), {
      input: batch.map((m) => `${m}\n`).join(''),
      stderr: 'collect',
      maxOutputBytes: 64 * 1024,
      timeoutMs,
      killGraceMs: 0,
    });
    if (r.end === 'exited' && r.exitCode === 0 && !r.pipesHeld) return null;
    if (r.end === 'timeout') return 'logger timed out';
    if (r.end === 'spawn-error') return `logger: ${r.error?.message ?? 'cannot run'}`;
    return r.stderr.trim() || `logger exited with ${r.exitCode ?? r.signal ?? describeEnd(r)}`;
  }
}
