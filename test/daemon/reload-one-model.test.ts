// After a reload the daemon keeps one model of the config: the Director's, whose unchanged
// virtuals are the objects its checks already run. Were the parsed config kept beside it (for
// its globals), every real would stay in memory twice until the next reload.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReloadQueue, type ReloadDeps } from '../../lib/app/reload.js';
import type { Config } from '../../lib/config/model.js';
import { parseConfig } from '../../lib/config/parse.js';
import { Lifecycle } from '../../lib/daemon/lifecycle.js';
import { closeHarnesses, running } from './helpers/director-harness.js';

const TWO = `checkinterval=1
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 3
virtual=192.0.2.2:80
    real=127.0.0.3:80 masq 1
`;

const dirs: string[] = [];
afterEach(async () => {
  await closeHarnesses();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function reloadOnce(edited: string, before?: (deps: ReloadDeps, lifecycle: Lifecycle) => void) {
  const h = await running(TWO, ['127.0.0.2:80', '127.0.0.3:80']);
  const dir = mkdtempSync(join(tmpdir(), 'reload-model-'));
  dirs.push(dir);
  const path = join(dir, 'ldirectord.cf');
  writeFileSync(path, edited);
  const lifecycle = new Lifecycle();
  lifecycle.set('running');
  let current: Config = h.director.currentConfig;
  const adopted: Config[] = [];
  const deps = {
    opts: { configPath: path, parse: (text: string) => parseConfig(text, { file: path }), selfCommand: ['true'] },
    log: () => undefined,
    lifecycle,
    director: h.director,
    endpoints: { metrics: undefined, follow: async () => undefined },
    reloads: { ok: 0, failed: 0 },
    config: () => current,
    adopt: (c: Config) => {
      adopted.push(c);
      current = c;
    },
    keep: (c: Config) => (current = c),
    watcher: () => undefined,
    stopped: () => false,
    shutdown: async () => undefined,
    heap: { building: () => undefined, parsed: () => undefined, settled: () => undefined, abandoned: () => undefined },
  } as unknown as ReloadDeps;
  const was = h.director.currentConfig;
  before?.(deps, lifecycle);
  new ReloadQueue(deps).request();
  await vi.waitFor(() => expect(deps.reloads.ok + deps.reloads.failed).toBe(1), { timeout: 5000 });
  return { h, was, parsed: adopted[0]!, current: () => current };
}

describe('a reload keeps one model of the config', () => {
  it("the daemon's config is the Director's: the unchanged virtual is the object it ran, the edited one is new", async () => {
    const { h, was, parsed, current } = await reloadOnce(TWO.replace('masq 1', 'masq 2'));
    expect(current()).toBe(h.director.currentConfig);
    expect(current().globals).toBe(parsed.globals);
    expect(current().virtuals[0]).toBe(was.virtuals[0]);
    expect(current().virtuals[0]).not.toBe(parsed.virtuals[0]);
    expect(current().virtuals[1]).toBe(parsed.virtuals[1]);
    expect(current().virtuals[1]!.reals[0]!.weight).toBe(2);
  });

  it('a stop during the reload leaves the Director on the old config: the parsed one is not swapped for it', async () => {
    const { h, was, parsed, current } = await reloadOnce(TWO.replace('masq 1', 'masq 2'), (deps) => {
      const director = deps.director;
      // The Director refuses the new config as it does once its stop has begun.
      (deps as { director: unknown }).director = { reload: async () => undefined, currentConfig: director.currentConfig };
    });
    expect(h.director.currentConfig).toBe(was);
    expect(current()).toBe(parsed);
  });
});
