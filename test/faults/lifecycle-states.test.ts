// The signal table of lib/daemon/lifecycle.ts, and the settled read that autoreload
// uses (lib/daemon/config-read.ts) against a writer that pauses mid-file.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lifecycle } from '../../lib/daemon/lifecycle.js';
import { readConfigText, readSettledConfig } from '../../lib/daemon/config-read.js';

describe('Lifecycle: one outcome per state and signal', () => {
  it('TERM: deferred while starting or reloading, at once while running, ignored once asked or stopping', () => {
    const seen: string[] = [];
    const lc = new Lifecycle((s) => seen.push(s));
    expect(lc.terminate('SIGTERM')).toBe('after-step');
    expect(lc.terminate('SIGINT')).toBe('ignore');
    expect(lc.stopSignal).toBe('SIGTERM');
    expect(lc.hangup()).toBe('ignore');

    const running = new Lifecycle();
    running.set('running');
    expect(running.terminate('SIGQUIT')).toBe('stop');

    const reloading = new Lifecycle();
    reloading.set('reloading');
    expect(reloading.terminate('SIGTERM')).toBe('after-step');

    const stopping = new Lifecycle((s) => seen.push(s));
    stopping.set('stopping');
    expect(stopping.terminate('SIGTERM')).toBe('ignore');
    expect(stopping.hangup()).toBe('ignore');
    stopping.set('running'); // no way back from stopping
    expect(stopping.state).toBe('stopping');
    expect(seen).toEqual(['stopping']);
  });

  it('HUP: after start-up while starting, at once while running or reloading', () => {
    const lc = new Lifecycle();
    expect(lc.hangup()).toBe('after-start');
    expect(lc.reloadAfterStart).toBe(true);
    lc.set('running');
    expect(lc.hangup()).toBe('reload');
    lc.set('reloading');
    expect(lc.hangup()).toBe('reload');
  });
});

describe('readSettledConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settled-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('waits out a writer that pauses mid-file and returns the whole file', async () => {
    const path = join(dir, 'a.cf');
    writeFileSync(path, 'old\n');
    const fd = openSync(path, 'w');
    writeSync(fd, 'first block\n');
    const reading = readSettledConfig(path, 500);
    await new Promise((r) => setTimeout(r, 300));
    writeSync(fd, 'the rest\n');
    closeSync(fd);
    const got = await reading;
    expect(got.ok && got.text).toBe('first block\nthe rest\n');
  });

  it('takes an old file at once', async () => {
    const path = join(dir, 'b.cf');
    writeFileSync(path, 'x\n');
    const t0 = Date.now();
    expect((await readSettledConfig(path, 200, 60_000, () => Date.now() + 10_000)).ok).toBe(true);
    expect(Date.now() - t0).toBeLessThan(150);
  });

  it('reports a missing file and a directory by code, without throwing', async () => {
    expect(await readConfigText(join(dir, 'none.cf'))).toEqual({
      ok: false,
      why: `Can not read configuration file ${join(dir, 'none.cf')}: ENOENT`,
    });
    expect(await readSettledConfig(dir, 100)).toEqual({ ok: false, why: `Can not read configuration file ${dir}: EISDIR` });
  });

  it('gives up on a file that never stops changing', async () => {
    const path = join(dir, 'c.cf');
    let i = 0;
    writeFileSync(path, 'v0\n');
    const timer = setInterval(() => writeFileSync(path, `v${++i}\n`), 50);
    const got = await readSettledConfig(path, 200, 1000);
    clearInterval(timer);
    expect(got.ok).toBe(false);
  });
});
