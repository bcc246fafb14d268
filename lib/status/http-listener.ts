// statusaddress=: a small HTTP listener that serves the status document
// (GET /status, /status.json) and Prometheus metrics (GET /metrics). It
// follows reloads (a changed address rebinds, a removed one closes), and a
// failure to bind is logged and leaves the daemon running without it.
import http from 'node:http';
import type { StatusAddress } from '../config/model.js';
import { formatStatusAddress } from '../config/extension-values.js';

export interface StatusRoutes {
  status(): string;
  metrics(): Promise<{ contentType: string; body: string }>;
}

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
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.maxConnections = 64;
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
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
    const path = (req.url ?? '/').split('?')[0];
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
        case '/':
          return send(res, req, 'text/plain; charset=utf-8', INDEX);
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
