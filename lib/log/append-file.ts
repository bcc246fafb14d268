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
//   on a full disk that is a few system calls per batch, no retry loop: lines
//   written while it is full are not kept for later (the queue would only grow);
// - lines that did not reach the file are counted, and the first batch that does
//   is preceded by `resumeNotice` (the logger says once how many lines it lost,
//   where the original's log never says so); a write cut short
//   by the disk filling up leaves part of a line, which the next write ends with
//   a newline so the lines after it stay whole;
// - the queue is bounded (in UTF-16 code units, ~bytes); beyond it text goes
//   straight to `onWriteError`.
//
// node:fs's callback functions rather than node:fs/promises: this module is loaded by
// every `status` (the logger), and node:fs/promises drags in readline and the streams,
// start-up time that heartbeat's status calls would pay every few seconds.
import { appendFileSync, close, fstat, open, stat, write, type Stats } from 'node:fs';

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;
function promised<T>(run: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}
const statPath = (path: string) => promised<Stats>((cb) => stat(path, cb));
const openAppend = (path: string) => promised<number>((cb) => open(path, 'a', cb));
const fstatFd = (fd: number) => promised<Stats>((cb) => fstat(fd, cb));

/** Queued text written at once, at most (UTF-16 code units, ~bytes), unless one line is longer. */
const BATCH_UNITS = 64 * 1024;

/** A write that stopped part-way: `written` bytes of the buffer are in the file. */
type PartialWriteError = NodeJS.ErrnoException & { written: number };

/** Writes the whole buffer (O_APPEND: at the end); a failure tells how much got in. */
function appendAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let off = 0;
    const next = (): void => {
      if (off >= buf.length) return resolve();
      write(fd, buf, off, buf.length - off, null, (err, n) => {
        if (!err && n === 0) err = Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
        if (err) return reject(Object.assign(err, { written: off }));
        off += n;
        next();
      });
    };
    next();
  });
}
const closeFd = (fd: number) => promised<void>((cb) => close(fd, (err) => cb(err ?? null, undefined)));

/** Lines that did not reach the file since `since` (the last error: `error`). */
export interface LostLines {
  readonly lines: number;
  readonly since: Date;
  readonly error: Error;
}

export interface AppendFileOptions {
  /** Text that could not be written (newline-terminated lines) and why. */
  readonly onWriteError: (text: string, err: Error) => void;
  /** Queued characters beyond which new text is refused (given to onWriteError). Default 16 Mi. */
  readonly maxQueuedBytes?: number;
  /** Text (whole lines) written ahead of the first batch that reaches the file after lines were lost. */
  readonly resumeNotice?: (lost: LostLines) => string;
  /** Default `() => new Date()`. */
  readonly now?: () => Date;
}

const NEWLINE = 0x0a;

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export class AppendFile {
  readonly path: string;
  private readonly onWriteError: (text: string, err: Error) => void;
  private readonly maxQueuedBytes: number;
  private readonly resumeNotice: ((lost: LostLines) => string) | undefined;
  private readonly now: () => Date;
  private lost: { lines: number; since: Date; error: Error } | undefined;
  /** The file (inode) whose last line a failed write left unfinished. */
  private unfinished: { ino: number; dev: number } | undefined;
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
    this.resumeNotice = opts.resumeNotice;
    this.now = opts.now ?? (() => new Date());
  }

  /** Queues text (whole lines, newline included). Never throws, never waits. */
  append(text: string): void {
    if (this.closed) {
      this.onWriteError(text, new Error(`${this.path}: closed`));
      return;
    }
    if (this.queuedBytes + text.length > this.maxQueuedBytes) {
      this.fail(text, new Error(`${this.path}: write queue full`));
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
      this.fail(text, err as Error);
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

  /**
   * The lines at the head of the queue, about BATCH_UNITS of them (at least one). A burst
   * (every real of a large config added at start) would otherwise be one string, and one
   * buffer, of all its lines at once, beside the queued lines themselves.
   */
  private takeBatch(): string {
    let n = 0;
    let units = 0;
    while (n < this.queue.length && (n === 0 || units + this.queue[n]!.length <= BATCH_UNITS)) units += this.queue[n++]!.length;
    this.queuedBytes -= units;
    return this.queue.splice(0, n).join('');
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Lines appended while the stat/open below runs join this batch.
        let fh: number;
        try {
          fh = await this.ensureOpen();
        } catch (err) {
          this.fail(this.take(), err as Error);
          continue;
        }
        const text = this.takeBatch();
        const unfinished = this.unfinished?.ino === this.ino && this.unfinished.dev === this.dev;
        const head = (unfinished ? '\n' : '') + (this.lost && this.resumeNotice ? this.resumeNotice(this.lost) : '');
        const buf = Buffer.from(head + text);
        try {
          await appendAll(fh, buf);
          this.lost = undefined;
          this.unfinished = undefined;
        } catch (err) {
          this.partlyWritten(buf, Buffer.byteLength(head), err as PartialWriteError);
          await this.closeHandle();
        }
      }
    } finally {
      this.writer = null;
    }
  }

  /** `buf` (`headBytes` of it the head) got only `err.written` bytes into the file. */
  private partlyWritten(buf: Buffer, headBytes: number, err: PartialWriteError): void {
    const written = Math.min(err.written ?? 0, buf.length);
    if (written > 0) this.unfinished = buf[written - 1] === NEWLINE ? undefined : { ino: this.ino, dev: this.dev };
    // The notice is in once the head is: only what comes after it is lost now.
    if (written >= headBytes) this.lost = undefined;
    // From the first line of the batch that is not whole in the file.
    const from = written > 0 ? Math.max(headBytes, buf.lastIndexOf(NEWLINE, written - 1) + 1) : headBytes;
    this.fail(buf.subarray(from).toString(), err);
  }

  /** Text that does not reach the file: counted for the resume notice, and handed on. */
  private fail(text: string, err: Error): void {
    if (text === '') return;
    if (this.lost) {
      this.lost.lines += countLines(text);
      this.lost.error = err;
    } else this.lost = { lines: countLines(text), since: this.now(), error: err };
    this.onWriteError(text, err);
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
