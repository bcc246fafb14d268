// autoreload= and callback= (spec §4.6): a changed config file (by content, as the
// original compares an MD5 of the file: here a digest of its text) is logged, reloaded
// when autoreload=yes, and passed to the callback. A stat every two seconds always
// looks for a change; the original looked once per check cycle, and a change that is
// only logged needs nothing quicker. With autoreload=yes or a callback, chokidar also
// catches edits at once, including editors that replace the file by rename: it is
// loaded only then, as every module a daemon loads stays in its memory.
//
// A file rewritten in place (cp, scp, `cat >`, an editor that does not rename) is
// seen while it is being written; its first part alone may be a valid config
// without most virtual services. So a change counts only once the file has stopped
// changing for QUIET_MS (readSettledConfig), and the reload is handed exactly that
// text: a prefix is never applied.
import { statSync } from 'node:fs';
import type { FSWatcher } from 'chokidar';
import { lazyModule } from '../../checks/lazy-module.js';
import { digestText } from '../content-digest.js';
import { runFallbackCommand } from './run-fallback-command.js';
import { readSettledConfig } from './config-read.js';

const chokidar = lazyModule<typeof import('chokidar')>('chokidar');

/**
 * How long the file must stay unchanged. Local copies, pipes and editors write a
 * config of any realistic size within milliseconds, and a copy over the network
 * stalls for less than this unless the link is failing; the original looked at the
 * file once per check cycle (checkinterval, seconds), so a reload 2 s after the last
 * write is no later than it was.
 */
export const QUIET_MS = 2000;

export interface ConfigWatchOptions {
  readonly path: string;
  /** digestText() of the content the daemon runs with (undefined: unreadable at start). */
  readonly sum: number | undefined;
  readonly autoreload: boolean;
  readonly callback?: string;
  readonly log: (m: string) => void;
  /** Reloads from this text (the settled file). */
  readonly reload: (text: string) => void;
  readonly pollMs?: number;
  readonly quietMs?: number;
}

export interface ConfigWatch {
  setAutoreload(autoreload: boolean, callback: string | undefined): void;
  /**
   * A reload (SIGHUP) read this text: it is the content the daemon runs with now, so the
   * edit behind it is not reported again as a change on disk (as the original updates its
   * MD5 of the file on every reload).
   */
  loaded(text: string): void;
  close(): void;
}

export function watchConfig(o: ConfigWatchOptions): ConfigWatch {
  let autoreload = o.autoreload;
  let callback = o.callback;
  let lastSum = o.sum;
  let lastStat = statKey(o.path);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;
  let settling = false;
  let again = false;

  const check = async (): Promise<void> => {
    if (settling) {
      again = true;
      return;
    }
    settling = true;
    try {
      do {
        again = false;
        const file = await readSettledConfig(o.path, o.quietMs ?? QUIET_MS);
        lastStat = statKey(o.path);
        // Missing or unreadable (a deploy under way): the next change looks again.
        if (closed || !file.ok || file.sum === lastSum) continue;
        lastSum = file.sum;
        o.log(`Configuration file '${o.path}' has changed on disk`);
        if (autoreload) {
          o.log(' - reread new configuration');
          o.reload(file.text);
        } else o.log(' - ignore new configuration');
        if (callback) runFallbackCommand(callback, [o.path], o.log);
      } while (again && !closed);
    } finally {
      settling = false;
    }
  };
  const soon = (): void => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void check(), 100);
  };

  // Events make a change seen at once, which matters only when it is acted on.
  const followEvents = (): void => {
    if (closed) return;
    if (!autoreload && !callback) {
      void watcher?.close();
      watcher = undefined;
      return;
    }
    if (watcher) return;
    watcher = chokidar().watch(o.path, { ignoreInitial: true, atomic: true });
    watcher.on('all', soon);
    // The path may turn into anything during a deploy (a directory, a symlink loop):
    // the watcher's complaint about it must not end the daemon; the poll goes on.
    watcher.on('error', soon);
  };
  const stop = (): void => {
    closed = true;
    void watcher?.close();
    watcher = undefined;
    if (timer) clearInterval(timer);
    if (debounce) clearTimeout(debounce);
  };
  followEvents();
  // Even with autoreload=no and no callback: the change is still logged.
  timer = setInterval(() => {
    if (statKey(o.path) !== lastStat) soon();
  }, o.pollMs ?? 2000);
  // An edit made while the daemon started has no event left to come: compare once now.
  soon();
  return {
    setAutoreload(a, cb) {
      autoreload = a;
      callback = cb;
      followEvents();
    },
    loaded(text) {
      lastSum = digestText(text);
      lastStat = statKey(o.path);
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
