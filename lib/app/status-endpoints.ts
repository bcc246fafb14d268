// Where the status is read from outside: the HTTP listener (statusaddress: the page at /,
// /status and /metrics) and the control socket `status --json` asks. prom-client is loaded only once
// a statusaddress asks for metrics; until then nothing is counted.
import type { StatusAddress } from '../config/model.js';
import type { Director } from '../daemon/director.js';
import type { SyncDaemonKeeper } from '../daemon/sync-daemon-keeper.js';
import type { DaemonEvents } from '../daemon/transition-events.js';
import { ControlSocket } from '../status/control-socket.js';
import { formatDocument, type StatusDocument } from '../status/document.js';
import { StatusListener } from '../status/http-listener.js';
import type { DaemonMetrics } from '../status/metrics.js';
import { buildStatus } from '../status/snapshot.js';
import { feedHistory } from '../status/history-feed.js';
import { StateHistory } from '../status/state-history.js';
import { pageAnswer, refreshSeconds, secretsOf } from '../status/status-page.js';

export interface ReloadCounts {
  ok: number;
  failed: number;
  lastAt?: number;
}

export class StatusEndpoints {
  /** Undefined until a statusaddress asked for metrics. */
  metrics: DaemonMetrics | undefined;
  private metricsLoading: Promise<DaemonMetrics> | undefined;
  private readonly listener: StatusListener;
  private control: ControlSocket | undefined;
  private director: Director | undefined;
  private readonly startedAt = Date.now();
  /**
   * The page's last hour of state changes, kept only while a statusaddress can show it
   * (at 10,000 reals the start-up decisions alone are megabytes nobody could read).
   */
  private history = new StateHistory();
  private events: DaemonEvents | undefined;
  private syncDaemons: SyncDaemonKeeper | undefined;
  private unfeed: (() => void) | undefined;

  constructor(
    private readonly facts: { readonly configPath: string; readonly reloads: ReloadCounts },
    private readonly log: (m: string) => void,
  ) {
    this.listener = new StatusListener(
      {
        status: () => formatDocument(this.status()),
        metrics: async () => {
          const m = await this.loadMetrics();
          return { contentType: m.contentType, body: await m.text() };
        },
        page: (query, acceptEncoding) => {
          const doc = this.status();
          const secrets = secretsOf(this.director!.currentConfig);
          return pageAnswer({ doc, history: this.history, secrets, refreshSeconds: refreshSeconds(query, doc) }, acceptEncoding);
        },
      },
      log,
    );
  }

  /** The Director the documents are read from, and its events (set before any endpoint opens). */
  attach(director: Director, events: DaemonEvents, syncDaemons?: SyncDaemonKeeper): void {
    this.director = director;
    this.events = events;
    this.syncDaemons = syncDaemons;
  }

  async openControlSocket(path: string): Promise<void> {
    this.control = await ControlSocket.open(
      path,
      (request) => (request === 'status' ? formatDocument(this.status()) : `${JSON.stringify({ error: `unknown request: ${request}` })}\n`),
      this.log,
    );
  }

  /** Binds (or moves, or closes) the HTTP listener as the config's statusaddress says. */
  async follow(address: StatusAddress | undefined): Promise<void> {
    if (address && !this.unfeed && this.events) this.unfeed = feedHistory(this.history, this.events);
    if (!address && this.unfeed) {
      this.unfeed();
      this.unfeed = undefined;
      this.history = new StateHistory();
    }
    if (address) await this.loadMetrics();
    await this.listener.bind(address);
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.control?.close();
  }

  private status(): StatusDocument {
    if (!this.director) throw new Error('status asked before the director exists');
    return buildStatus(this.director, {
      config: this.facts.configPath,
      pid: process.pid,
      startedAt: this.startedAt,
      reloads: this.facts.reloads,
      ...(this.listener.address !== undefined ? { statusAddress: this.listener.address } : {}),
      ...(this.syncDaemons ? { syncDaemons: this.syncDaemons.view() } : {}),
    });
  }

  private loadMetrics(): Promise<DaemonMetrics> {
    return (this.metricsLoading ??= import('../status/metrics.js').then(
      (m) => (this.metrics = new m.DaemonMetrics(() => this.status(), this.facts.reloads)),
    ));
  }
}
