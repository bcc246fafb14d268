// An append-only text file that survives log rotation, for the logfile and the
// monitorfiles. The original opens, appends and closes the file for every line,
// so `mv ldirectord.log ldirectord.log.1` (logrotate without copytruncate or a
// postrotate script, as Debian's /etc/logrotate.d/ldirectord) just works.
//
// Doing that synchronously per line would block the event loop of a daemon with
// thousands of reals, so instead:
// - lines are queued and written in batches by one asynchronous writer (libuv's
//   thread pool), never on the caller's stack: `append()` only pushes a string;
// - the file stays open (O_APPEND, so copytruncate also works), and before each
//   batch one stat(2) of the path is compared with the inode of the open file:
//   renamed away, deleted or replaced means close and reopen (creating it), so a
//   rotated file gets at most the batch that was already being written;
// - a failed open or write hands the batch to `onWriteError` (the logger prints
//   it to stderr, as the original does) and the next batch reopens the file;
// - the queue is bounded (in UTF-16 code units, ~bytes); beyond it text goes
//   straight to `onWriteError`.
import { appendFileSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface AppendFileOptions {
  /** Text that could not be written (a whole batch, newline-terminated lines) and why. */
  readonly onWriteError: (text: string, err: Error) => void;
  /** Queued characters beyond which new text is refused (given to onWriteError). Default 16 Mi. */
  readonly maxQueuedBytes?: number;
}

export class AppendFile {
  readonly path: string;
  private readonly onWriteError: (text: string, err: Error) => void;
  private readonly maxQueuedBytes: number;
  private queue: string[] = [];
  private queuedBytes = 0;
  private handle: FileHandle | null = null;
  private ino = -1;
  private dev = -1;
  private reopenWanted = false;
  private closed = false;
  private writer: Promise<void> | null = null;

  constructor(path: string, opts: AppendFileOptions) {
    this.path = path;
    this.onWriteError = opts.onWriteError;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 16 * 1024 * 1024;
  }

  /** Queues text (whole lines, newline included). Never throws, never waits. */
  append(text: string): void {
    if (this.closed) {
      this.onWriteError(text, new Error(`${this.path}: closed`));
      return;
    }
    if (this.queuedBytes + text.length > this.maxQueuedBytes) {
      this.onWriteError(text, new Error(`${this.path}: write queue full`));
      return;
    }
    this.queue.push(text);
    this.queuedBytes += text.length;
    this.writer ??= this.drain();
  }

  /** Closes the file before the next batch, e.g. on SIGHUP after a rotation. */
  reopen(): void {
    this.reopenWanted = true;
  }

  /** Resolves once everything appended so far has been written (or failed). */
  async flush(): Promise<void> {
    while (this.writer) await this.writer;
  }

  /**
   * For the exit path: writes what is still queued with blocking calls. A batch
   * already handed to the thread pool is not waited for.
   */
  flushSync(): void {
    const text = this.take();
    if (text === '') return;
    try {
      appendFileSync(this.path, text);
    } catch (err) {
      this.onWriteError(text, err as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.closeHandle();
  }

  private take(): string {
    const text = this.queue.join('');
    this.queue = [];
    this.queuedBytes = 0;
    return text;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Lines appended while the stat/open below runs join this batch.
        let fh: FileHandle;
        try {
          fh = await this.ensureOpen();
        } catch (err) {
          this.onWriteError(this.take(), err as Error);
          continue;
        }
        const text = this.take();
        try {
          await fh.appendFile(text);
        } catch (err) {
          this.onWriteError(text, err as Error);
          await this.closeHandle();
        }
      }
    } finally {
      this.writer = null;
    }
  }

  private async ensureOpen(): Promise<FileHandle> {
    if (this.handle && !this.reopenWanted) {
      const st = await stat(this.path).catch(() => null);
      if (st && st.ino === this.ino && st.dev === this.dev) return this.handle;
    }
    this.reopenWanted = false;
    await this.closeHandle();
    const fh = await open(this.path, 'a');
    try {
      const st = await fh.stat();
      this.ino = st.ino;
      this.dev = st.dev;
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    this.handle = fh;
    return fh;
  }

  private async closeHandle(): Promise<void> {
    const fh = this.handle;
    this.handle = null;
    this.ino = -1;
    this.dev = -1;
    if (fh) await fh.close().catch(() => undefined);
  }
}
