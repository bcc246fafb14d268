// The daemon's control socket: a unix socket next to the pid file, mode 0600,
// that answers one request line ("status") with the status document. The
// command line's `status --json` reads the live state through it. Created and
// removed only by the daemon that owns it.
import { chmodSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';

/** Bounds what a client may send before it is answered or dropped. */
const MAX_REQUEST = 1024;
const IDLE_MS = 5000;

export type ControlHandler = (request: string) => string;

export class ControlSocket {
  private constructor(
    private readonly server: net.Server,
    readonly path: string,
    private readonly inode: number,
  ) {}

  /**
   * Listens on `path`. A socket file left by a daemon that died is replaced;
   * one that answers belongs to a live process and is left alone. Never throws:
   * the daemon runs without the socket and the log says why.
   */
  static async open(path: string, handler: ControlHandler, log: (m: string) => void): Promise<ControlSocket | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const server = net.createServer((c) => serve(c, handler));
      server.maxConnections = 16;
      const err = await listenPrivately(server, path);
      if (!err) {
        try {
          chmodSync(path, 0o600);
          return new ControlSocket(server, path, statSync(path).ino);
        } catch (e) {
          server.close();
          log(`control socket ${path}: ${(e as Error).message}`);
          return undefined;
        }
      }
      if (err.code === 'EADDRINUSE' && attempt === 0 && !(await answers(path))) {
        try {
          unlinkSync(path);
          continue;
        } catch {
          // fall through to the log line
        }
      }
      log(`control socket ${path} not available (status --json will not see this daemon): ${err.code ?? err.message}`);
      return undefined;
    }
    return undefined;
  }

  /** Stops listening and removes the file, if it is still ours. */
  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
    try {
      if (statSync(this.path).ino === this.inode) unlinkSync(this.path);
    } catch {
      // already gone
    }
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

function serve(c: net.Socket, handler: ControlHandler): void {
  let buf = '';
  c.setEncoding('utf8');
  c.setTimeout(IDLE_MS, () => c.destroy());
  c.on('error', () => undefined);
  c.on('data', (d: string) => {
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl < 0) {
      if (buf.length > MAX_REQUEST) c.destroy();
      return;
    }
    let reply: string;
    try {
      reply = handler(buf.slice(0, nl).trim());
    } catch (e) {
      reply = `${JSON.stringify({ error: (e as Error).message })}\n`;
    }
    c.end(reply);
  });
}
