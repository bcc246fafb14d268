// statusaddress=: a small HTTP listener that serves the status document
// (GET /status, /status.json) and Prometheus metrics (GET /metrics). It
// follows reloads (a changed address rebinds, a removed one closes), and a
// failure to bind is logged and leaves the daemon running without it.
import type http from 'node:http';
import { lazyModule } from '../../checks/lazy-module.js';
import type net from 'node:net';
import type { StatusAddress } from '../config/model.js';
import { formatStatusAddress } from '../config/extension-values.js';
import { ConnectionSlots } from './connection-slots.js';

// Loaded when a listener is first bound (lazy-module.ts): without statusaddress= node:http
// is resident memory the daemon never uses.
const httpModule = lazyModule<typeof http>('node:http');

export interface StatusRoutes {
  status(): string;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The HTML status page at `/`; without it `/` answers a plain index. */
  page?(query: URLSearchParams, acceptEncoding: string | undefined): Promise<{ headers: Readonly<Record<string, string>>; body: Buffer }>;
}

/**
 * A scraper sends its request at once and reads its answer at once: 5 s for
 * a request and 10 s for an answer (a /metrics of thousands of reals is a
 * few MB) leave a slow management network room, and bound what an idle,
 * trickling or non-reading client can hold.
 */
const LIMITS = { max: 64, requestMs: 5_000, answerMs: 10_000, stalledMs: 2_000 };

/** A scraper's keep-alive connection makes one request per scrape; pipelining more gets 503 and a close. */
const MAX_REQUESTS_PER_CONNECTION = 10;

const INDEX = 'ldirectord status listener\n\n/status    the status document (JSON)\n/metrics   Prometheus metrics\n';

export class StatusListener {
  private server: http.Server | undefined;
  private bound: string | undefined;

  constructor(
    private readonly routes: StatusRoutes,
    private readonly log: (m: string) => void,
  ) {}

  /** Where it listens now, as `127.0.0.1:9101`. */
  get address(): string | undefined {
    return this.bound;
  }

  /** Listens on `address` (nothing when undefined); a no-op when it already does. */
  async bind(address: StatusAddress | undefined): Promise<void> {
    const want = address ? formatStatusAddress(address) : undefined;
    if (want === this.bound && (want === undefined || this.server)) return;
    await this.close();
    if (!address || !want) return;
    const slots = new ConnectionSlots(LIMITS);
    // Pipelined requests are answered one after the other, each once the one
    // before it has been written out: a client that sends many and reads none
    // costs the daemon one answer, not one per request.
    const answered = new WeakMap<net.Socket, Promise<void>>();
    const server = httpModule().createServer((req, res) => {
      const socket = req.socket;
      slots.busy(socket);
      const over = new Promise<void>((r) => res.once('close', r));
      void over.then(() => slots.done(socket));
      const before = answered.get(socket) ?? Promise.resolve();
      const answer = before.then(() => (res.destroyed || socket.destroyed ? undefined : this.handle(req, res)));
      // an answer that failed to be written ends the connection; the chain goes on to its close
      answered.set(
        socket,
        answer.catch(() => socket.destroy()).then(() => over),
      );
    });
    server.on('connection', (socket: net.Socket) => slots.admit(socket));
    // The slots' deadlines bound requests and idle keep-alive; Node's own
    // timeouts only as a second line.
    server.keepAliveTimeout = LIMITS.requestMs;
    server.headersTimeout = LIMITS.requestMs;
    server.requestTimeout = LIMITS.answerMs;
    server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
        server.off('error', resolve);
        resolve(undefined);
      });
    });
    if (err) {
      this.log(`status listener: cannot listen on ${want}: ${err.code ?? err.message} (the daemon runs on without it)`);
      return;
    }
    server.on('error', (e) => this.log(`status listener on ${want}: ${e.message}`));
    this.server = server;
    this.bound = want;
    this.log(`status listener: serving /status and /metrics on http://${want}/`);
  }

  async close(): Promise<void> {
    const server = this.server;
    const was = this.bound;
    this.server = undefined;
    this.bound = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    this.log(`status listener on ${was} closed`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const [path, query] = (req.url ?? '/').split('?', 2);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      switch (path) {
        case '/status':
        case '/status.json':
          return send(res, req, 'application/json; charset=utf-8', this.routes.status());
        case '/metrics': {
          const m = await this.routes.metrics();
          return send(res, req, m.contentType, m.body);
        }
        case '/': {
          if (!this.routes.page) return send(res, req, 'text/plain; charset=utf-8', INDEX);
          const p = await this.routes.page(new URLSearchParams(query ?? ''), req.headers['accept-encoding']);
          res.writeHead(200, { ...p.headers, 'content-length': p.body.length });
          res.end(req.method === 'HEAD' ? undefined : p.body);
          return;
        }
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
    }
  }
}

function send(res: http.ServerResponse, req: http.IncomingMessage, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
