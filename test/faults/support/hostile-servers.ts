// Misbehaving TCP and TLS servers for the fault tests, and small healthy ones to check
// alongside them. Every server counts the connections it accepted and still holds, so a
// test can assert that the client side released each of them (a socket the client
// forgot stays open here for as long as the client process lives).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export type HostileMode =
  /** Accept and never write: a TLS client's handshake never completes; with `tls`, the handshake completes and then nothing. */
  | 'stall'
  /** `head`, then one byte of `fill` every `trickleMs`, for ever (slowloris). */
  | 'trickle'
  /** `head`, then `fill` as fast as the client reads, for ever. */
  | 'endless'
  /** RST right after accept (after the handshake with `tls`). */
  | 'reset'
  /** 4 KiB of random bytes (the first 0xff), then silence with the connection kept open. */
  | 'garbage'
  /** FIN right after accept (after the handshake with `tls`). */
  | 'close';

export const HOSTILE_MODES: readonly HostileMode[] = ['stall', 'trickle', 'endless', 'reset', 'garbage', 'close'];

export interface TlsIdentity {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  /** Terminate TLS first; the behaviour then applies to the decrypted stream. */
  readonly tls?: TlsIdentity;
}

export interface HostileOptions extends ServerOptions {
  readonly mode: HostileMode;
  /** Written first in trickle and endless modes (e.g. a status line that never ends). */
  readonly head?: string;
  /** What trickle and endless modes repeat. */
  readonly fill?: string;
  readonly trickleMs?: number;
}

export interface TrackedServer {
  readonly host: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  accepted(): number;
  /** TCP connections still open on the server side. */
  open(): number;
  /** Resolves true once no connection is open, false if some still are after `ms`. */
  allClosed(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

type Handler = (socket: net.Socket) => void;

async function tracked(o: ServerOptions, handle: Handler): Promise<TrackedServer> {
  const open = new Set<net.Socket>();
  /** Every connection not yet closed, half-open ones included: close() ends them all. */
  const live = new Set<net.Socket>();
  let accepted = 0;
  const context = o.tls ? tls.createSecureContext({ cert: o.tls.cert, key: o.tls.key }) : undefined;
  // Half-open allowed: a client that half-closes (simpletcp) must not make a stalling
  // server answer with its own FIN. TLS is layered on each accepted socket here (not by
  // tls.Server) so that the socket tracked is the one whose end and close are seen.
  const server = net.createServer({ allowHalfOpen: true }, (raw) => {
    accepted++;
    raw.on('error', () => undefined);
    const socket = context ? new tls.TLSSocket(raw, { isServer: true, secureContext: context }) : raw;
    open.add(socket);
    live.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      open.delete(socket);
      live.delete(socket);
    });
    // The client's FIN: with half-open connections allowed, all a server can see of a
    // client that closed (the client's fds are counted on its side).
    socket.once('end', () => open.delete(socket));
    if (context) {
      // No checker half-closes a TLS connection: its FIN means it is gone.
      socket.once('end', () => socket.destroy());
      socket.once('secure', () => handle(socket));
    } else {
      handle(socket);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, backlog: 511 }, () => resolve());
  });
  return {
    host: o.host,
    port: o.port,
    accepted: () => accepted,
    open: () => open.size,
    async allClosed(ms) {
      const until = Date.now() + ms;
      while (open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      return open.size === 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function repeatForever(socket: net.Socket, fill: Buffer, everyMs: number | undefined): void {
  if (everyMs !== undefined) {
    const timer = setInterval(() => {
      if (socket.destroyed || !socket.writable) clearInterval(timer);
      else socket.write(fill.subarray(0, 1));
    }, everyMs);
    socket.once('close', () => clearInterval(timer));
    return;
  }
  const chunk = Buffer.alloc(64 * 1024, fill);
  const pump = (): void => {
    while (!socket.destroyed && socket.writable) {
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** A server that misbehaves in one way on every connection. */
export function startHostileServer(o: HostileOptions): Promise<TrackedServer> {
  const fill = Buffer.from(o.fill ?? 'x', 'latin1');
  return tracked(o, (socket) => {
    socket.on('error', () => undefined);
    socket.resume(); // read and drop what the client sends
    switch (o.mode) {
      case 'stall':
        return;
      case 'trickle':
        socket.write(o.head ?? '');
        repeatForever(socket, fill, o.trickleMs ?? 50);
        return;
      case 'endless':
        socket.write(o.head ?? '');
        repeatForever(socket, fill, undefined);
        return;
      case 'reset':
        socket.resetAndDestroy();
        return;
      case 'garbage':
        // A first byte no protocol's reply starts with (nntp's greeting is up on a '2').
        socket.write(Buffer.concat([Buffer.from([0xff]), randomBytes(4095)]));
        return;
      case 'close':
        socket.end();
        return;
    }
  });
}

/**
 * A listener whose accept queue is full and never drained: further connects get no
 * SYN-ACK and hang until the client gives up (a real whose kernel or firewall drops
 * the connection). Needs python3 (Node cannot listen without accepting). The first
 * connection is left in the queue by a filler socket so that every check's SYN is dropped.
 */
export interface Unaccepting {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startUnacceptingListener(host: string, port: number): Promise<Unaccepting> {
  const script = [
    'import socket, sys, time',
    's = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    `s.bind((${JSON.stringify(host)}, ${port}))`,
    's.listen(0)',
    'print("ready", flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child: ChildProcess = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python3 listener exited (${code})`)));
    child.stdout?.once('data', () => resolve());
  });
  // Fill the accept queue (backlog 0 holds one connection) so that later SYNs are dropped.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = net.connect({ host, port });
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  return {
    host,
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      child.stdin?.end();
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(undefined)));
    },
  };
}

/** True when python3 can run (startUnacceptingListener needs it). */
export function havePython(): Promise<boolean> {
  return new Promise((resolve) => execFile('python3', ['-c', 'pass'], (err) => resolve(!err)));
}

// ---- healthy servers -------------------------------------------------------------

export type HealthyProtocol = 'http' | 'smtp' | 'pop' | 'imap' | 'ftp' | 'nntp' | 'simpletcp' | 'ldap';

/** A reply to one line: text to send, and whether to close after it. */
type LineScript = { greeting: string; reply(line: string): { send: string; end?: boolean } | undefined };

const SCRIPTS: Record<Exclude<HealthyProtocol, 'http' | 'ldap'>, LineScript> = {
  smtp: {
    greeting: '220 healthy.test ESMTP\r\n',
    reply: (l) =>
      /^EHLO/i.test(l)
        ? { send: '250-healthy.test\r\n250 8BITMIME\r\n' }
        : /^QUIT/i.test(l)
          ? { send: '221 bye\r\n', end: true }
          : { send: '250 ok\r\n' },
  },
  pop: { greeting: '+OK healthy\r\n', reply: (l) => (/^QUIT/i.test(l) ? { send: '+OK bye\r\n', end: true } : { send: '+OK\r\n' }) },
  imap: {
    greeting: '* OK healthy\r\n',
    reply: (l) => {
      const tag = l.split(' ')[0] ?? '*';
      return /LOGOUT/i.test(l) ? { send: `* BYE\r\n${tag} OK\r\n`, end: true } : { send: `${tag} OK\r\n` };
    },
  },
  ftp: {
    greeting: '220 healthy\r\n',
    reply: (l) => {
      const verb = l.split(' ')[0]?.toUpperCase();
      if (verb === 'USER') return { send: '331 password please\r\n' };
      if (verb === 'PASS') return { send: '230 logged in\r\n' };
      if (verb === 'QUIT') return { send: '221 bye\r\n', end: true };
      if (verb === 'CWD') return { send: '250 ok\r\n' };
      if (verb === 'TYPE') return { send: '200 ok\r\n' };
      return { send: '502 not here\r\n' };
    },
  },
  nntp: { greeting: '200 healthy\r\n', reply: () => ({ send: '205 bye\r\n', end: true }) },
  simpletcp: { greeting: '', reply: () => ({ send: 'OK healthy\n', end: true }) },
};

function lineServer(script: LineScript): Handler {
  return (socket) => {
    socket.on('error', () => undefined);
    if (script.greeting) socket.write(script.greeting);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        const r = script.reply(line);
        if (r?.end) {
          socket.end(r.send);
          return;
        }
        if (r) socket.write(r.send);
      }
    });
    // simpletcp half-closes after its request, which it sends without a line end
    socket.on('end', () => {
      const last = script.greeting === '' && buf !== '' ? script.reply(buf)?.send : undefined;
      if (last === undefined) socket.end();
      else socket.end(last);
    });
  };
}

function httpServer(): Handler {
  return (socket) => {
    let head = '';
    socket.on('end', () => socket.end());
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n');
    });
  };
}

// LDAP (BER): just enough to answer a bind and a base search with one entry.
function berLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}
function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), berLength(body.length), body]);
}
function ldapMessage(id: number, op: Buffer): Buffer {
  return tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([id])), op]));
}
const LDAP_RESULT_OK = Buffer.concat([tlv(0x0a, Buffer.from([0])), tlv(0x04, Buffer.alloc(0)), tlv(0x04, Buffer.alloc(0))]);
export const HEALTHY_LDAP_DN = 'dc=healthy,dc=test';

function ldapServer(): Handler {
  return (socket) => {
    let buf = Buffer.alloc(0);
    socket.on('end', () => socket.end());
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2 || buf[0] !== 0x30) return;
        let len = buf[1] as number;
        let at = 2;
        if (len & 0x80) {
          const n = len & 0x7f;
          if (buf.length < 2 + n) return;
          len = 0;
          for (let i = 0; i < n; i++) len = (len << 8) | (buf[2 + i] as number);
          at = 2 + n;
        }
        if (buf.length < at + len) return;
        const msg = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        const id = msg[2] as number; // 02 01 id: the checks' message ids stay small
        const op = msg[3] as number;
        if (op === 0x60) socket.write(ldapMessage(id, tlv(0x61, LDAP_RESULT_OK)));
        else if (op === 0x63) {
          const entry = tlv(0x64, Buffer.concat([tlv(0x04, Buffer.from(HEALTHY_LDAP_DN)), tlv(0x30, Buffer.alloc(0))]));
          socket.write(Buffer.concat([ldapMessage(id, entry), ldapMessage(id, tlv(0x65, LDAP_RESULT_OK))]));
        } else if (op === 0x42) socket.end(); // unbind
      }
    });
  };
}

/** A well-behaved server of `protocol` (a minimal one: what the checks ask, answered at once). */
export function startHealthyServer(protocol: HealthyProtocol, o: ServerOptions): Promise<TrackedServer> {
  const handler = protocol === 'http' ? httpServer() : protocol === 'ldap' ? ldapServer() : lineServer(SCRIPTS[protocol]);
  return tracked(o, handler);
}

/** A healthy http server on `port` and one that accepts and never answers on `port + 1`. */
export interface GoodAndStalled {
  readonly good: TrackedServer;
  readonly stall: TrackedServer;
}

export async function startGoodAndStalled(host: string, port: number): Promise<GoodAndStalled> {
  const good = await startHealthyServer('http', { host, port });
  try {
    return { good, stall: await startHostileServer({ host, port: port + 1, mode: 'stall' }) };
  } catch (err) {
    await good.close();
    throw err;
  }
}

export async function closeGoodAndStalled(servers: GoodAndStalled | undefined): Promise<void> {
  await servers?.good.close();
  await servers?.stall.close();
}
