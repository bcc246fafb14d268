// One daemon per configuration: the daemon binds a Linux abstract-namespace unix
// socket named after its pid file (its config file in the foreground, which has
// no pid file). The kernel frees the name when
// the last descriptor on it closes, that is when the process ends however it ends
// (SIGKILL included; Node opens sockets close-on-exec, so no child such as a hung
// ipvsadm keeps it), so a lock can neither go stale nor be held by two processes.
// Whoever connects is told the holder's pid and state, then every state change,
// and sees the connection close when the holder is gone: `start` waits on it for a
// daemon that another `start` is bringing up, and `stop` for the daemon to be gone.
//
// Abstract names belong to a network namespace, which chroots and containers on the
// host's network share while each has its own /run: the name is therefore taken from
// the file's directory as a file-system object (device and inode) and the file's
// name, not from its path, so that two such roots, each with its own
// /run/ldirectord.<cfg>.pid, have two locks, and one root's `start` or `stop` never follows, or signals by pid, a daemon
// of another root (whose pid means another process, or none, in this root's pid
// namespace). Two daemons of one pid file in different network namespaces do not see
// each other (they would share one IPVS table only if they shared the namespace).
import { basename, dirname, resolve } from 'node:path';
import type { Server, Socket } from 'node:net';
import { sha256Hex } from './sha256.js';

export type InstanceState = 'starting' | 'running' | 'reloading' | 'stopping';

/**
 * The abstract socket name for a path, a pid file or (in the foreground) a config
 * file (hashed: sun_path holds 107 bytes): its directory's device and inode, and its
 * file name. A directory that cannot be examined holds no such file either; its
 * path stands in then.
 */
export function lockName(path: string): string {
  const abs = resolve(path);
  let dir: string;
  try {
    const st = process.getBuiltinModule('node:fs').statSync(dirname(abs), { bigint: true });
    dir = `${st.dev}:${st.ino}`;
  } catch {
    dir = dirname(abs);
  }
  const key = `${dir}\0${basename(abs)}`;
  return `\0ldirectord-ts/${sha256Hex(Buffer.from(key, 'utf8')).slice(0, 40)}`;
}

// net is taken when used: `status` loads this module too and does not need it.
const net = (): typeof import('node:net') => process.getBuiltinModule('node:net');

export class InstanceLock {
  private readonly peers = new Set<Socket>();
  private state: InstanceState = 'starting';

  private constructor(server: Server) {
    server.on('connection', (s) => {
      s.on('error', () => undefined);
      s.on('close', () => this.peers.delete(s));
      // Peers only listen: whatever they send is dropped.
      s.on('data', () => undefined);
      this.peers.add(s);
      s.write(this.line());
    });
    // The lock must not keep a daemon alive that has nothing else to do.
    server.unref();
  }

  /** Takes the lock, or returns undefined when another process holds it. */
  static acquire(key: string): Promise<InstanceLock | undefined> {
    return new Promise((done, fail) => {
      const server = net().createServer();
      server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? done(undefined) : fail(err)));
      server.listen({ path: lockName(key) }, () => done(new InstanceLock(server)));
    });
  }

  set(state: InstanceState): void {
    if (state === this.state) return;
    this.state = state;
    for (const s of this.peers) s.write(this.line());
  }

  private line(): string {
    return `${process.pid} ${this.state}\n`;
  }
}

export type Holder = { held: false } | { held: true; pid?: number; state?: InstanceState };

/**
 * Follows the holder of a pid file's lock: `onState` for its state now and at each
 * change; the promise resolves once the holder is gone (at once when there is none).
 * `until` ends the watch early; `answerMs` bounds the wait for the first line, after
 * which the holder counts as held, state unknown (its event loop is busy).
 */
export function followHolder(
  pidFile: string,
  onState: (pid: number, state: InstanceState) => 'stop' | void,
): { first: Promise<Holder>; gone: Promise<void>; close: () => void } {
  const socket = net().createConnection({ path: lockName(pidFile) });
  let buffer = '';
  let answered!: (h: Holder) => void;
  const first = new Promise<Holder>((r) => (answered = r));
  const gone = new Promise<void>((r) => socket.once('close', () => r()));
  socket.setEncoding('utf8');
  socket.once('connect', () => {
    // Connected means held, even when the holder cannot answer yet.
    const timer = setTimeout(() => answered({ held: true }), 2000);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', () => clearTimeout(timer));
  });
  socket.on('error', () => answered({ held: false }));
  socket.on('close', () => answered({ held: false }));
  socket.on('data', (d: string) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const [pid, state] = buffer.slice(0, nl).split(' ');
      buffer = buffer.slice(nl + 1);
      answered({ held: true, pid: Number(pid), state: state as InstanceState });
      if (onState(Number(pid), state as InstanceState) === 'stop') socket.destroy();
    }
  });
  return { first, gone, close: () => socket.destroy() };
}

/** Who holds the lock now (one connection, closed again). */
export async function probeHolder(pidFile: string): Promise<Holder> {
  const f = followHolder(pidFile, () => 'stop');
  const h = await f.first;
  f.close();
  return h;
}
