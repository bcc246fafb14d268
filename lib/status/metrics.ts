// Prometheus metrics of the running daemon (prom-client). Check and IPVS
// counters are fed by the director as things happen; per-real gauges are read
// from the status document at each scrape, so they always match `status
// --json` and vanish with the reals a reload removed.
import client from 'prom-client';
import type { CheckResult } from '../../checks/types.js';
import type { DirectorObserver } from '../daemon/assemble-director.js';
import type { RealEntry } from '../daemon/check-runner.js';
import type { ConvergeResult } from '../ipvs/converge.js';
import { canonicalAddress } from '../ipvs/table.js';
import { VERSION_LINE } from '../version.js';
import type { StatusDocument } from './document.js';

/** Check latencies from a loopback answer to a slow negotiate timeout. */
const CHECK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class DaemonMetrics implements DirectorObserver {
  readonly registry = new client.Registry();
  private readonly checks: client.Counter<'virtual' | 'real' | 'result'>;
  private readonly checkDuration: client.Histogram<'virtual' | 'real'>;
  private readonly convergences: client.Counter<'result'>;
  private readonly commands: client.Counter<'result'>;
  private readonly reloads: client.Counter<'result'>;

  constructor(status: () => StatusDocument, reloadsSoFar: { ok: number; failed: number } = { ok: 0, failed: 0 }) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    new client.Gauge({ name: 'ldirectord_info', help: 'Always 1; the version in a label.', labelNames: ['version'], registers }).set(
      { version: VERSION_LINE },
      1,
    );
    // One document per scrape, shared by the gauges that read it.
    let doc: StatusDocument | undefined;
    const current = (): StatusDocument => {
      doc ??= status();
      queueMicrotask(() => (doc = undefined));
      return doc;
    };
    const reals = () => (current().virtuals ?? []).flatMap((v) => v.reals.map((r) => ({ v, r })));
    new client.Gauge({
      name: 'ldirectord_real_up',
      help: 'Whether the real server is up by its checks (1), or down or not yet checked (0).',
      labelNames: ['virtual', 'real'],
      registers,
      collect() {
        this.reset();
        for (const { v, r } of reals()) this.set({ virtual: v.id, real: r.address }, r.state === 'up' ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'ldirectord_real_weight',
      help: 'Weight of the real server in the IPVS table as last read (0 when quiesced or absent).',
      labelNames: ['virtual', 'real'],
      registers,
      collect() {
        this.reset();
        for (const { v, r } of reals()) this.set({ virtual: v.id, real: r.address }, r.ipvsWeight ?? 0);
      },
    });
    new client.Gauge({
      name: 'ldirectord_fallback_weight',
      help: 'Weight of the fallback server in the IPVS table as last read: above 0 while it serves (0 when absent).',
      labelNames: ['virtual', 'fallback'],
      registers,
      collect() {
        this.reset();
        for (const v of current().virtuals ?? [])
          if (v.fallback) this.set({ virtual: v.id, fallback: v.fallback.address }, v.fallback.ipvsWeight ?? 0);
      },
    });
    new client.Gauge({
      name: 'ldirectord_sync_daemon_running',
      help: 'Whether the kernel ran the IPVS sync daemon role (master, backup) at the last look: 1 or 0; only with syncdaemon= set.',
      labelNames: ['role'],
      registers,
      collect() {
        this.reset();
        const sync = current().daemon;
        const s = 'syncDaemons' in sync ? sync.syncDaemons : undefined;
        if (!s || s.mode === 'none') return;
        const roles = new Set([...s.configured.map((c) => c.role), ...(s.running ?? []).map((r) => r.role)]);
        for (const role of roles) this.set({ role }, s.running?.some((r) => r.role === role) ? 1 : 0);
      },
    });
    this.checkDuration = new client.Histogram({
      name: 'ldirectord_check_duration_seconds',
      help: 'How long the health checks of a real server took.',
      labelNames: ['virtual', 'real'],
      buckets: CHECK_BUCKETS,
      registers,
    });
    this.checks = new client.Counter({
      name: 'ldirectord_checks_total',
      help: 'Health checks of a real server by result (success, failure).',
      labelNames: ['virtual', 'real', 'result'],
      registers,
    });
    this.convergences = new client.Counter({
      name: 'ldirectord_ipvs_convergences_total',
      help: 'Convergences of the IPVS table: ok (verified), incomplete (some command refused), error (ipvsadm unusable).',
      labelNames: ['result'],
      registers,
    });
    this.commands = new client.Counter({
      name: 'ldirectord_ipvs_commands_total',
      help: 'ipvsadm changes by result: applied (seen in the table afterwards) or failed.',
      labelNames: ['result'],
      registers,
    });
    this.reloads = new client.Counter({
      name: 'ldirectord_reloads_total',
      help: 'Configuration reloads by result: ok, or error (the running configuration stayed).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['ok', 'incomplete', 'error']) this.convergences.inc({ result }, 0);
    for (const result of ['applied', 'failed']) this.commands.inc({ result }, 0);
    this.reloads.inc({ result: 'ok' }, reloadsSoFar.ok);
    this.reloads.inc({ result: 'error' }, reloadsSoFar.failed);
  }

  /** A check shared by several virtuals counts under each of them. */
  checked(entry: RealEntry, result: CheckResult): void {
    const seconds = Math.max(0, result.durationMs) / 1000;
    for (const { virtual, real } of entry.members) {
      const labels = { virtual: virtual.id, real: `${canonicalAddress(real.ip)?.address ?? real.ip}:${real.port}` };
      this.checkDuration.observe(labels, seconds);
      this.checks.inc({ ...labels, result: result.ok ? 'success' : 'failure' });
    }
  }

  converged(result: ConvergeResult): void {
    this.convergences.inc({ result: result.error ? 'error' : result.ok ? 'ok' : 'incomplete' });
    if (result.applied.length > 0) this.commands.inc({ result: 'applied' }, result.applied.length);
    if (result.failures.length > 0) this.commands.inc({ result: 'failed' }, result.failures.length);
  }

  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'error' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
