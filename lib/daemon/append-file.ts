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
//
// node:fs's callback functions rather than node:fs/promises: this module is loaded by
// every `status` (the logger), and node:fs/promises drags in readline and the streams,
// start-up time that heartbeat's status calls would pay every few seconds.
import { appendFile, appendFileSync, close, fstat, open, stat, type Stats } from 'node:fs';

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;
function promised<T>(run: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}
const statPath = (path: string) => promised<Stats>((cb) => stat(path, cb));
const openAppend = (path: string) => promised<number>((cb) => open(path, 'a', cb));
const fstatFd = (fd: number) => promised<Stats>((cb) => fstat(fd, cb));
const appendFd = (fd: number, text: string) => promised<void>((cb) => appendFile(fd, text, (err) => cb(err, undefined)));
const closeFd = (fd: number) => promised<void>((cb) => close(fd, (err) => cb(err ?? null, undefined)));

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
  private handle: number | null = null;
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
        let fh: number;
        try {
          fh = await this.ensureOpen();
        } catch (err) {
          this.onWriteError(this.take(), err as Error);
          continue;
        }
        const text = this.take();
        try {
          await appendFd(fh, text);
        } catch (err) {
          this.onWriteError(text, err as Error);
          await this.closeHandle();
        }
      }
    } finally {
      this.writer = null;
    }
  }

  private async ensureOpen(): Promise<number> {
    if (this.handle !== null && !this.reopenWanted) {
      const st = await statPath(this.path).catch(() => null);
      if (st && st.ino === this.ino && st.dev === this.dev) return this.handle;
    }
    this.reopenWanted = false;
    await this.closeHandle();
    const fh = await openAppend(this.path);
    try {
      const st = await fstatFd(fh);
      this.ino = st.ino;
      this.dev = st.dev;
    } catch (err) {
      await closeFd(fh).catch(() => undefined);
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
    if (fh !== null) await closeFd(fh).catch(() => undefined);
  }
}
