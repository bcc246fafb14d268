// Hostile clients of the daemon's status listeners, as any local user could run
// them: connections that never send a byte, requests trickled a few bytes at a
// time (slowloris), and a client that asks and never reads. Each kind keeps its
// connections open: one the daemon drops is opened again after `reopenMs`.
import net from 'node:net';

export type Target = { host: string; port: number } | { path: string };

export interface Crowd {
  /** Connections open now. */
  readonly open: number;
  /** Closes every connection and opens no more. */
  stop(): Promise<void>;
}

interface Kind {
  /** Called once connected. */
  start(s: net.Socket): void;
}

function crowd(target: Target, count: number, kind: Kind, reopenMs: number): Crowd {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const open = (): void => {
    if (stopped) return;
    const s = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('connect', () => kind.start(s));
    s.once('close', () => {
      sockets.delete(s);
      if (stopped) return;
      const t = setTimeout(() => {
        timers.delete(t);
        open();
      }, reopenMs);
      timers.add(t);
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    get open() {
      return [...sockets].filter((s) => !s.connecting && !s.destroyed).length;
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      const closed = [...sockets].map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r()))));
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
  };
}

/** Connections that send nothing. */
export function idleClients(target: Target, count: number, reopenMs = 1000): Crowd {
  return crowd(target, count, { start: () => undefined }, reopenMs);
}

/** Connections that send `head` and then one more byte of it every `everyMs`, never finishing it. */
export function tricklers(target: Target, count: number, head: string, trickle: string, everyMs = 500, reopenMs = 1000): Crowd {
  return crowd(
    target,
    count,
    {
      start(s) {
        s.write(head);
        const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(trickle)), everyMs);
        s.once('close', () => clearInterval(t));
      },
    },
    reopenMs,
  );
}

/** Connections that send `request` and never read the answer. */
export function nonReaders(target: Target, count: number, request: string, reopenMs = 1000): Crowd {
  return crowd(
    target,
    count,
    {
      start(s) {
        s.pause();
        s.write(request);
      },
    },
    reopenMs,
  );
}

/** Open file descriptors of process `pid`. */
export async function fdCount(pid: number): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(`/proc/${pid}/fd`)).length;
}
