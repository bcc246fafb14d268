// The daemon's control socket: a unix socket next to the pid file, mode 0600,
// that answers one request line ("status") with the status document. The
// command line's `status --json` reads the live state through it. Created and
// removed only by the daemon that owns it.
import { chmodSync, existsSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { ConnectionSlots } from './connection-slots.js';

/** Bounds what a client may send before it is answered or dropped. */
const MAX_REQUEST = 1024;
/**
 * `status --json` writes its line as soon as it is connected and reads the
 * answer at once; idle or non-reading clients lose their slot (see
 * ConnectionSlots) instead of keeping it from the command line.
 */
const LIMITS = { max: 64, requestMs: 3_000, answerMs: 10_000, stalledMs: 2_000 };

export type ControlHandler = (request: string) => string;

export class ControlSocket {
  private constructor(
    private readonly server: net.Server,
    private readonly slots: ConnectionSlots,
    readonly path: string,
    private readonly inode: number,
  ) {}

  /**
   * Listens on `path`. A socket file left by a daemon that died is replaced;
   * one that answers belongs to a live process and is left alone. Never throws:
   * the daemon runs without the socket and the log says why.
   *
   * The socket is bound under a private name and renamed into place: it
   * appears already listening and 0600, replaces a stale file atomically, and
   * when the server closes, libuv's own unlink hits the private name, so the
   * public one is removed only by close() below, and only while it is ours.
   */
  static async open(path: string, handler: ControlHandler, log: (m: string) => void): Promise<ControlSocket | undefined> {
    const unavailable = (why: string) => {
      log(`control socket ${path} not available (status --json will not see this daemon): ${why}`);
      return undefined;
    };
    if (existsSync(path) && (await answers(path))) return unavailable('in use by another process');
    const tmp = `${path}.${process.pid}.new`;
    rmSync(tmp, { force: true });
    const slots = new ConnectionSlots(LIMITS);
    const server = net.createServer((c) => {
      slots.admit(c);
      if (!c.destroyed) serve(c, handler, slots);
    });
    const err = await listenPrivately(server, tmp);
    if (err) return unavailable(err.code ?? err.message);
    try {
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
      return new ControlSocket(server, slots, path, statSync(path).ino);
    } catch (e) {
      server.close();
      return unavailable((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
  }

  /** Removes the file, if it is still ours, and stops listening. */
  async close(): Promise<void> {
    try {
      if (statSync(this.path).ino === this.inode) unlinkSync(this.path);
    } catch {
      // already gone
    }
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.slots.destroyAll();
    await closed;
  }
}

/**
 * The socket file is created by bind(2), which Node runs within listen():
 * a umask of 0177 for that call makes it 0600 from the first moment, not only
 * after the chmod that follows.
 */
function listenPrivately(server: net.Server, path: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (e: NodeJS.ErrnoException) => resolve(e);
    server.once('error', onError);
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', onError);
        resolve(undefined);
      });
    } finally {
      process.umask(old);
    }
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function serve(c: net.Socket, handler: ControlHandler, slots: ConnectionSlots): void {
  let buf = '';
  let answered = false;
  c.setEncoding('utf8');
  c.on('error', () => undefined);
  c.on('data', (d: string) => {
    if (answered) return; // one request per connection
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl < 0) {
      if (buf.length > MAX_REQUEST) c.destroy();
      return;
    }
    answered = true;
    slots.busy(c);
    let reply: string;
    try {
      reply = handler(buf.slice(0, nl).trim());
    } catch (e) {
      reply = `${JSON.stringify({ error: (e as Error).message })}\n`;
    }
    c.end(reply);
  });
}
