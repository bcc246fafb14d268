// Reloads: one at a time, queued behind each other; requests that arrive while one
// waits merge into it. Each reads and parses the file, follows the execute= instances,
// hands the new config to the Director, then to the listeners and the file watcher;
// between its steps, a stop that came meanwhile ends it.
import type { Config } from '../config/model.js';
import { configDiagnostic } from '../config/messages.js';
import { readConfigTextNow } from '../daemon/config-read.js';
import type { ConfigWatch } from '../daemon/config-watch.js';
import type { Director } from '../daemon/director.js';
import { runChildCommand, runChildren } from '../daemon/execute-children.js';
import type { Lifecycle } from '../daemon/lifecycle.js';
import type { ReloadCounts, StatusEndpoints } from './status-endpoints.js';
import { RELOAD_SETTLE_MS, type HeapRegime } from './heap-regime.js';

export interface ReloadDeps {
  readonly opts: {
    readonly configPath: string;
    readonly parse: (
      text: string,
    ) => Promise<{ config?: Config; diagnostics: readonly { severity: 'error' | 'warning'; line: number; message: string }[] }>;
    /** argv[0..1] to run `ldirectord <child> <cmd>` for execute= instances. */
    readonly selfCommand: readonly string[];
  };
  readonly log: (m: string) => void;
  readonly lifecycle: Lifecycle;
  readonly director: Director;
  readonly endpoints: StatusEndpoints;
  readonly reloads: ReloadCounts;
  /** The running config, and what a reload does with the new one before the Director takes it. */
  readonly config: () => Config;
  readonly adopt: (config: Config) => void;
  /**
   * The config the Director runs once it has taken the new one: the new globals, and the
   * virtuals a reload did not change as the objects it already ran. It replaces the parsed
   * one, which would otherwise stay alive beside it: a second model of every real.
   */
  readonly keep: (config: Config) => void;
  readonly watcher: () => ConfigWatch | undefined;
  readonly stopped: () => boolean;
  readonly shutdown: () => Promise<void>;
  readonly heap: Pick<HeapRegime, 'building' | 'parsed' | 'settled' | 'abandoned'>;
}

export class ReloadQueue {
  private reloading: Promise<void> = Promise.resolve();
  private queued: { text: string | undefined } | undefined;

  constructor(private readonly deps: ReloadDeps) {}

  /**
   * `text`: the settled file that autoreload read; a SIGHUP reads the file itself (its
   * sender says the file is complete), and a merged SIGHUP wins.
   */
  request(text?: string): void {
    if (this.queued) {
      if (text === undefined || this.queued.text === undefined) this.queued.text = undefined;
      else this.queued.text = text;
      return;
    }
    this.queued = { text };
    const { lifecycle } = this.deps;
    this.reloading = this.reloading.then(async () => {
      const req = this.queued!;
      this.queued = undefined;
      if (lifecycle.stopRequested || this.deps.stopped()) return;
      lifecycle.set('reloading');
      this.deps.heap.building();
      try {
        await this.reloadOnce(req.text);
      } catch (err) {
        this.deps.log(`reload failed: ${(err as Error).message}`);
        this.counted(false);
      }
      if (lifecycle.stopRequested) {
        this.deps.heap.abandoned();
        await this.deps.shutdown();
      } else {
        lifecycle.set('running');
        this.deps.heap.settled(RELOAD_SETTLE_MS);
      }
    });
  }

  private counted(ok: boolean): void {
    const { reloads } = this.deps;
    if (ok) reloads.ok++;
    else reloads.failed++;
    reloads.lastAt = Date.now();
    this.deps.endpoints.metrics?.reloaded(ok);
  }

  private async reloadOnce(given: string | undefined): Promise<void> {
    const { opts, log, lifecycle } = this.deps;
    let text = given;
    if (text === undefined) {
      const file = readConfigTextNow(opts.configPath);
      if (!file.ok) {
        log(`${file.why}: the running configuration stays in force`);
        return this.counted(false);
      }
      text = file.text;
    }
    this.deps.watcher()?.loaded(text);
    const parsed = await opts.parse(text);
    for (const d of parsed.diagnostics) log(configDiagnostic(d.severity, process.pid, opts.configPath, d.line, d.message));
    if (!parsed.config) {
      log('Configuration has errors: the running configuration stays in force');
      return this.counted(false);
    }
    if (lifecycle.stopRequested) return;
    const old = this.deps.config();
    const config = parsed.config;
    this.deps.adopt(config);
    const before = new Set(old.globals.execute);
    const after = new Set(config.globals.execute);
    await runChildren(
      opts.selfCommand,
      [...before].filter((n) => !after.has(n)),
      'stop',
      log,
    );
    for (const n of [...after].filter((x) => before.has(x))) {
      if (lifecycle.stopRequested) break;
      const r = await runChildCommand(opts.selfCommand, n, 'reload');
      if (!r.ok) await runChildren(opts.selfCommand, [n], 'start', log);
    }
    if (!lifecycle.stopRequested)
      await runChildren(
        opts.selfCommand,
        [...after].filter((n) => !before.has(n)),
        'start',
        log,
      );
    // The table is left as it was when a stop came: the stop purges it next.
    if (lifecycle.stopRequested) return;
    this.deps.heap.parsed();
    await this.deps.director.reload(config);
    // Once the Director has taken the new config, its own carries the new globals (a stop
    // that came first leaves it on the old one, and the parsed config stays adopted).
    const running = this.deps.director.currentConfig;
    if (running.globals === config.globals) this.deps.keep(running);
    this.counted(true);
    await this.deps.endpoints.follow(config.globals.statusaddress);
    this.deps.watcher()?.setAutoreload(config.globals.autoreload, config.globals.callback);
  }
}
