// The real servers of a scenario: small Node servers on loopback addresses that a phase can
// take down (the listener closes, so checks see "connection refused" at once) and bring back.
// Both directors check the same servers.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import http from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';

export type BackendKind =
  /** HTTP answering every request with 200 and body "OK\n". */
  | 'http'
  /** TCP that accepts and says nothing (connect checks). */
  | 'tcp'
  /** UDP DNS answering every A query with DNS_ANSWER. */
  | 'dns';

export const DNS_ANSWER = '192.0.2.53';

export interface BackendSpec {
  readonly name: string;
  readonly kind: BackendKind;
  readonly host: string;
  readonly port: number;
  /** Not listening when the scenario starts. */
  readonly startDown?: boolean;
}

export interface Backend {
  readonly spec: BackendSpec;
  readonly isUp: boolean;
  up(): Promise<void>;
  down(): Promise<void>;
}

function dnsReply(msg: Buffer): Buffer | undefined {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(msg);
  } catch {
    return undefined;
  }
  const questions = q.questions ?? [];
  return dnsPacket.encode({
    type: 'response',
    id: q.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions,
    answers: questions
      .filter((x) => x.type === 'A')
      .map((x) => ({ type: 'A' as const, name: x.name, ttl: 60, class: 'IN' as const, data: DNS_ANSWER })),
  });
}

class LoopbackBackend implements Backend {
  private tcp?: Server;
  private udp?: UdpSocket;
  private readonly sockets = new Set<Socket>();

  constructor(readonly spec: BackendSpec) {}

  get isUp(): boolean {
    return this.tcp !== undefined || this.udp !== undefined;
  }

  async up(): Promise<void> {
    if (this.isUp) return;
    const { kind, host, port } = this.spec;
    if (kind === 'dns') {
      const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      udp.on('message', (msg, rinfo) => {
        const reply = dnsReply(msg);
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
      await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(port, host, resolve));
      this.udp = udp;
      return;
    }
    const server =
      kind === 'http' ? http.createServer((_req, res) => res.end('OK\n')) : createServer((s) => s.on('error', () => undefined));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    this.tcp = server;
  }

  async down(): Promise<void> {
    const { tcp, udp } = this;
    this.tcp = undefined;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) {
      for (const s of this.sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  }
}

export async function startBackends(specs: readonly BackendSpec[]): Promise<Map<string, Backend>> {
  const map = new Map<string, Backend>();
  for (const spec of specs) {
    const b = new LoopbackBackend(spec);
    map.set(spec.name, b);
    if (!spec.startDown) await b.up();
  }
  return map;
}
