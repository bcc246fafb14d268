// chokidar is loaded and started only while a change is acted on (autoreload=yes or a
// callback): a change that is only logged is found by the poll alone, and a reload that
// switches autoreload on starts the watcher, which sees a change long before the poll.
// Its own file: whether chokidar is loaded is a fact about the whole process (the first
// test runs before anything here loads it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { digestText } from '../../lib/content-digest.js';
import { watchConfig, type ConfigWatch } from '../../lib/daemon/config-watch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chokidarLoaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/chokidar/'));

let dir: string | undefined;
let watch: ConfigWatch | undefined;
afterEach(() => {
  watch?.close();
  watch = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setUp(before: string): {
  path: string;
  lines: string[];
  reloads: string[];
  start: (o: { autoreload: boolean; pollMs: number }) => void;
} {
  dir = mkdtempSync(join(tmpdir(), 'config-watch-'));
  const path = join(dir, 'ldirectord.cf');
  writeFileSync(path, before);
  const lines: string[] = [];
  const reloads: string[] = [];
  const start = (o: { autoreload: boolean; pollMs: number }): void => {
    watch = watchConfig({
      path,
      sum: digestText(before),
      autoreload: o.autoreload,
      log: (m) => lines.push(m),
      reload: (text) => reloads.push(text),
      pollMs: o.pollMs,
      quietMs: 200,
    });
  };
  return { path, lines, reloads, start };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(50);
}

it('autoreload=no and no callback: no chokidar, and a change on disk is still logged within the poll', async () => {
  const { path, lines, reloads, start } = setUp('checkinterval=5\n');
  start({ autoreload: false, pollMs: 200 });
  await sleep(300);
  writeFileSync(path, 'checkinterval=6\n');
  await until(() => lines.length >= 2, 5000);
  expect(lines).toEqual([`Configuration file '${path}' has changed on disk`, ' - ignore new configuration']);
  expect(reloads).toEqual([]);
  expect(chokidarLoaded()).toBe(false);
});

it('setAutoreload(yes) starts the watcher: a change is reloaded without waiting for the poll', async () => {
  const { path, lines, reloads, start } = setUp('checkinterval=5\n');
  // A poll that does not come within the test: only the watcher can see the change.
  start({ autoreload: false, pollMs: 60_000 });
  watch!.setAutoreload(true, undefined);
  expect(chokidarLoaded()).toBe(true);
  await sleep(500);
  writeFileSync(path, 'checkinterval=6\n');
  await until(() => reloads.length >= 1, 5000);
  expect(lines).toEqual([`Configuration file '${path}' has changed on disk`, ' - reread new configuration']);
  expect(reloads).toEqual(['checkinterval=6\n']);
});
