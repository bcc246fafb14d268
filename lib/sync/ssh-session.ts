// Promise wrappers around one ssh2 client connection for `sync`: connect with host key
// verification and key/agent authentication, run a remote command, and the few SFTP
// calls the atomic upload needs. Every wait is bounded by the caller's AbortSignal.
import ssh2, { type AnyAuthMethod, type Client, type SFTPWrapper, type Stats } from 'ssh2';
import { raceAbort } from '../../checks/io/deadline.js';
import { SUPPORTED_HOST_KEY_ALGORITHMS, knownAlgorithms, verifyHostKey, type KnownHostLine } from './known-hosts.js';

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Tried in order; the first that the server accepts wins. */
  readonly auth: readonly AnyAuthMethod[];
  readonly knownHosts: readonly KnownHostLine[];
  /** Named in messages about unknown hosts. */
  readonly knownHostsFiles: readonly string[];
  readonly signal: AbortSignal;
}

/** Rejects when the signal aborts: every network wait goes through it. */
export function bounded<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  const failed = work.catch((e: unknown) => {
    throw e instanceof Error ? e : new Error(String(e));
  });
  return raceAbort(failed, signal, (before): never => {
    throw new Error(`timed out ${before ? 'before' : 'during'} ${what}`);
  });
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal?: string;
  /** stdout and stderr interleaved, at most OUTPUT_LIMIT bytes. */
  readonly output: string;
}

const OUTPUT_LIMIT = 64 * 1024;

export class SshSession {
  private closedWhy: string | undefined;

  private constructor(private readonly client: Client) {
    client.on('close', () => (this.closedWhy ??= 'connection closed'));
  }

  /** Connects, verifies the host key against known_hosts and authenticates. */
  static async open(o: SessionOptions): Promise<SshSession> {
    const client = new ssh2.Client();
    let hostKeyProblem: string | undefined;
    // Offer the key types known_hosts lists for this host first (as ssh(1) does), so
    // a server with several host keys shows the one we can check.
    const known = knownAlgorithms(o.knownHosts, o.host, o.port);
    const serverHostKey = [...known, ...SUPPORTED_HOST_KEY_ALGORITHMS.filter((a) => !known.includes(a))];
    const ready = new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (err) => {
        if (hostKeyProblem !== undefined) reject(new Error(hostKeyProblem));
        else if ((err as { level?: string }).level === 'client-authentication')
          reject(new Error(`authentication as ${o.user} failed (tried: ${o.auth.map((a) => a.type).join(', ') || 'nothing'})`));
        else reject(err);
      });
      client.once('close', () => reject(new Error(hostKeyProblem ?? 'connection closed during the SSH handshake')));
    });
    client.connect({
      host: o.host,
      port: o.port,
      username: o.user,
      // The runner's deadline governs; ssh2's own would only race it.
      readyTimeout: 2_147_483_647,
      algorithms: { serverHostKey },
      hostVerifier: (key: Buffer): boolean => {
        const verdict = verifyHostKey(o.knownHosts, o.host, o.port, key, o.knownHostsFiles);
        if (!verdict.ok) hostKeyProblem = verdict.message;
        return verdict.ok;
      },
      authHandler: [...o.auth],
    });
    try {
      await bounded(ready, o.signal, 'the SSH handshake');
    } catch (err) {
      client.end();
      client.destroy();
      throw err;
    }
    return new SshSession(client);
  }

  get closed(): string | undefined {
    return this.closedWhy;
  }

  /** Runs one command line (already quoted: see shell-quote.ts) and collects its output. */
  exec(command: string, signal: AbortSignal): Promise<ExecResult> {
    const work = new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(err);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const take = (b: Buffer): void => {
          if (size >= OUTPUT_LIMIT) return;
          chunks.push(b.subarray(0, OUTPUT_LIMIT - size));
          size += b.length;
        };
        let code: number | null = null;
        let sig: string | undefined;
        channel.on('data', take);
        channel.stderr.on('data', take);
        channel.on('exit', (c: number | null, s?: string) => {
          code = c;
          if (s) sig = s;
        });
        channel.on('close', () => {
          const output = Buffer.concat(chunks).toString('utf8');
          if (code === null && sig === undefined && this.closedWhy !== undefined) reject(new Error(this.closedWhy));
          else resolve({ code, ...(sig ? { signal: sig } : {}), output });
        });
      });
    });
    return bounded(work, signal, `the remote command ${command}`);
  }

  sftp(signal: AbortSignal): Promise<Sftp> {
    const work = new Promise<Sftp>((resolve, reject) => {
      this.client.sftp((err, sftp) => (err ? reject(err) : resolve(new Sftp(sftp))));
    });
    return bounded(work, signal, 'opening SFTP');
  }

  close(): void {
    this.client.end();
    // A peer that stopped answering would keep the socket; end() alone waits for it.
    setTimeout(() => this.client.destroy(), 1000).unref();
  }
}

/** The SFTP calls of the upload, as promises. */
export class Sftp {
  constructor(private readonly sftp: SFTPWrapper) {}

  private call<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        fn((err, value) => (err ? reject(err) : resolve(value as T)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** The file's attributes, or undefined when it does not exist. */
  async stat(path: string): Promise<Stats | undefined> {
    try {
      return await this.call<Stats>((cb) => this.sftp.stat(path, cb));
    } catch (err) {
      if ((err as { code?: number }).code === 2) return undefined; // SSH_FX_NO_SUCH_FILE
      throw err;
    }
  }

  /**
   * Creates `path` (failing if it exists: a name we made up must be ours alone), writes
   * `data`, flushes it to disk when the server offers fsync@openssh.com, and closes.
   */
  async writeNew(path: string, data: Buffer, mode: number): Promise<void> {
    const handle = await this.call<Buffer>((cb) => this.sftp.open(path, 'wx', { mode }, cb));
    try {
      for (let off = 0; off < data.length; off += 32 * 1024) {
        const len = Math.min(32 * 1024, data.length - off);
        await this.call<void>((cb) => this.sftp.write(handle, data, off, len, off, cb));
      }
      await this.call<void>((cb) => this.sftp.ext_openssh_fsync(handle, (err) => cb(err))).catch((err: Error) => {
        // Only a server without the extension is tolerated; a failed fsync is a failure.
        if (!/not support/i.test(err.message)) throw err;
      });
    } finally {
      await this.call<void>((cb) => this.sftp.close(handle, cb));
    }
    // open()'s mode passes through the server's umask: set it exactly.
    await this.call<void>((cb) => this.sftp.chmod(path, mode, cb));
  }

  /** Like stat, but a symbolic link is reported as itself. */
  async lstat(path: string): Promise<Stats | undefined> {
    try {
      return await this.call<Stats>((cb) => this.sftp.lstat(path, cb));
    } catch (err) {
      if ((err as { code?: number }).code === 2) return undefined;
      throw err;
    }
  }

  /** The canonical path, symbolic links resolved (the server's realpath(3)). */
  realpath(path: string): Promise<string> {
    return this.call<string>((cb) => this.sftp.realpath(path, cb));
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.call<void>((cb) => this.sftp.chown(path, uid, gid, cb));
  }

  /**
   * Replaces `to` with `from` atomically: posix-rename@openssh.com, i.e. rename(2). Plain
   * SFTP rename refuses an existing target, and unlink-then-rename would leave a moment
   * without a config, so a server without the extension is refused.
   */
  atomicRename(from: string, to: string): Promise<void> {
    return this.call<void>((cb) => this.sftp.ext_openssh_rename(from, to, cb)).catch((err: Error) => {
      if (/not support/i.test(err.message))
        throw new Error('the SFTP server lacks posix-rename@openssh.com; cannot replace the file atomically');
      throw err;
    });
  }

  unlink(path: string): Promise<void> {
    return this.call<void>((cb) => this.sftp.unlink(path, cb));
  }
}
