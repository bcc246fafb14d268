// A SIGHUP reload reads the edited file itself: the file watcher must then take that
// text as the running one, or it reports the same edit again ("has changed on disk",
// and with callback= runs the callback) seconds after the reload applied it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { digestText } from '../../lib/content-digest.js';
import { watchConfig, type ConfigWatch } from '../../lib/daemon/config-watch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string | undefined;
let watch: ConfigWatch | undefined;
afterEach(() => {
  watch?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('an edit that a reload has read is not reported as a change on disk', async () => {
  dir = mkdtempSync(join(tmpdir(), 'config-watch-'));
  const path = join(dir, 'ldirectord.cf');
  const before = 'checkinterval=5\n';
  const after = 'checkinterval=6\n';
  writeFileSync(path, before);
  const lines: string[] = [];
  watch = watchConfig({
    path,
    sum: digestText(before),
    autoreload: false,
    log: (m) => lines.push(m),
    reload: () => undefined,
    pollMs: 100,
    quietMs: 300,
  });
  writeFileSync(path, after);
  watch.loaded(after);
  await sleep(1500);
  expect(lines).toEqual([]);
  // an edit no reload has read is still reported, once
  writeFileSync(path, 'checkinterval=7\n');
  const until = Date.now() + 10_000;
  while (lines.length < 2 && Date.now() < until) await sleep(100);
  expect(lines).toEqual([`Configuration file '${path}' has changed on disk`, ' - ignore new configuration']);
});
