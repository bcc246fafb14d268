// autoreload= and callback= (spec §4.6): a changed config file (by content: the
// MD5 rule) is logged, reloaded when autoreload=yes, and passed to the callback.
// chokidar catches edits at once, including editors that replace the file by
// rename; a stat every two seconds backs it up on file systems without events.
import { statSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { runFallbackCommand } from './fallback-command.js';

export interface ConfigWatchOptions {
  readonly path: string;
  readonly md5: () => string | undefined;
  readonly autoreload: boolean;
  readonly callback?: string;
  readonly log: (m: string) => void;
  readonly reload: () => void;
  readonly pollMs?: number;
}

export interface ConfigWatch {
  setAutoreload(autoreload: boolean, callback: string | undefined): void;
  close(): void;
}

export function watchConfig(o: ConfigWatchOptions): ConfigWatch {
  let autoreload = o.autoreload;
  let callback = o.callback;
  let lastSum = o.md5();
  let lastStat = statKey(o.path);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;

  const check = (): void => {
    lastStat = statKey(o.path);
    const sum = o.md5();
    if (sum === undefined || sum === lastSum) return;
    lastSum = sum;
    o.log(`Configuration file '${o.path}' has changed on disk`);
    if (autoreload) {
      o.log(' - reread new configuration');
      o.reload();
    } else o.log(' - ignore new configuration');
    if (callback) runFallbackCommand(callback, [o.path], o.log);
  };
  const soon = (): void => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(check, 100);
  };

  const start = (): void => {
    // Watched even with autoreload=no and no callback: the change is still logged.
    if (watcher) return;
    watcher = watch(o.path, { ignoreInitial: true, atomic: true });
    watcher.on('all', soon);
    timer = setInterval(() => {
      if (statKey(o.path) !== lastStat) soon();
    }, o.pollMs ?? 2000);
  };
  const stop = (): void => {
    void watcher?.close();
    watcher = undefined;
    if (timer) clearInterval(timer);
    if (debounce) clearTimeout(debounce);
  };
  start();
  return {
    setAutoreload(a, cb) {
      autoreload = a;
      callback = cb;
    },
    close: stop,
  };
}

function statKey(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
