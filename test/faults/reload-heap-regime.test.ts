// A reload that fails, whatever the cause, must still end its build: a build left open
// keeps the daemon out of V8's memory-reducing collections until the next reload that works.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReloadQueue, type ReloadDeps } from '../../lib/app/reload.js';
import { RELOAD_SETTLE_MS } from '../../lib/app/heap-regime.js';
import type { Config } from '../../lib/config/model.js';
import { parseConfig } from '../../lib/config/parse.js';
import { Lifecycle } from '../../lib/daemon/lifecycle.js';

const CONFIG = 'virtual=10.0.0.1:80\n\treal=127.0.0.2:80 masq\n\tchecktype=on\n';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function queue(opts: {
  reload?: (c: Config) => Promise<void>;
  text?: string;
  deleted?: boolean;
  parse?: (text: string, file: string) => ReturnType<typeof parseConfig>;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'reload-heap-'));
  dirs.push(dir);
  const path = join(dir, 'ldirectord.cf');
  if (!opts.deleted) writeFileSync(path, opts.text ?? CONFIG);
  const running = (await parseConfig(CONFIG, { file: path })).config!;
  const heap: string[] = [];
  const log: string[] = [];
  const kept: Config[] = [];
  const lifecycle = new Lifecycle();
  lifecycle.set('running');
  let stopped = false;
  const deps = {
    opts: {
      configPath: path,
      parse: (text: string) => (opts.parse ?? ((t, file) => parseConfig(t, { file })))(text, path),
      selfCommand: ['true'],
    },
    log: (m: string) => log.push(m),
    lifecycle,
    director: { reload: opts.reload ?? (async () => undefined), currentConfig: running },
    endpoints: { metrics: undefined, follow: async () => undefined },
    reloads: { ok: 0, failed: 0 },
    config: () => running,
    adopt: () => undefined,
    keep: (c: Config) => kept.push(c),
    watcher: () => undefined,
    stopped: () => stopped,
    shutdown: async () => {
      stopped = true;
      heap.push('shutdown');
    },
    heap: {
      building: () => heap.push('building'),
      parsed: () => heap.push('parsed'),
      settled: (ms: number) => heap.push(`settled ${ms}`),
      abandoned: () => heap.push('abandoned'),
    },
  } as unknown as ReloadDeps;
  return { q: new ReloadQueue(deps), heap, log, lifecycle, deps, kept };
}

describe('a failing reload still ends its build', () => {
  it('the config file vanished', async () => {
    const { q, heap, log } = await queue({ deleted: true });
    q.request();
    await vi.waitFor(() => expect(heap).toEqual(['building', `settled ${RELOAD_SETTLE_MS}`]));
    expect(log.join('\n')).toMatch(/the running configuration stays in force/);
  });

  it('the config has errors', async () => {
    const { q, heap, log } = await queue({ text: 'virtual=nonsense\n' });
    q.request();
    await vi.waitFor(() => expect(heap).toEqual(['building', `settled ${RELOAD_SETTLE_MS}`]));
    expect(log.join('\n')).toMatch(/Configuration has errors/);
  });

  it('the table cannot be changed (ipvsadm fails)', async () => {
    const { q, heap, log, deps, kept } = await queue({
      reload: async () => {
        throw new Error('ipvsadm exited with status 2');
      },
    });
    q.request();
    await vi.waitFor(() => expect(heap).toEqual(['building', 'parsed', `settled ${RELOAD_SETTLE_MS}`]));
    expect(log.join('\n')).toMatch(/reload failed: ipvsadm exited with status 2/);
    expect(deps.reloads.failed).toBe(1);
    // nothing the Director may not run replaces the daemon's config
    expect(kept).toEqual([]);
  });

  it('a stop comes while the table is changed: the daemon stops, nothing settles', async () => {
    let release!: () => void;
    const { q, heap, lifecycle } = await queue({ reload: () => new Promise<void>((r) => (release = r)) });
    q.request();
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    lifecycle.terminate('SIGTERM');
    release();
    await vi.waitFor(() => expect(heap).toEqual(['building', 'parsed', 'abandoned', 'shutdown']));
  });

  it('a stop comes while the config is parsed: the build is abandoned before the shutdown', async () => {
    let release!: () => void;
    const { q, heap, lifecycle } = await queue({
      parse: async (text, file) => {
        await new Promise<void>((r) => (release = r));
        return parseConfig(text, { file });
      },
    });
    q.request();
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    lifecycle.terminate('SIGTERM');
    release();
    // The optimizing compiler is back (abandoned) before the stop's own work runs.
    await vi.waitFor(() => expect(heap).toEqual(['building', 'abandoned', 'shutdown']));
  });
});
