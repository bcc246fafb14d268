// Reading the config file while the daemon runs: a file that is missing, a directory
// or unreadable (a deploy under way) is an error to log, never an exception that ends
// the daemon; and for autoreload, a file is taken only once it has stopped changing.
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { digestText } from '../content-digest.js';

/** `sum`: digestText() of `text`, what the daemon compares to tell that the content changed. */
export type ConfigText = { ok: true; text: string; sum: number; key: string } | { ok: false; why: string };

/** Identity of one version of the file: a write changes the size, the mtime or the ctime. */
async function statKey(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

function reason(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return `Can not read configuration file ${path}: ${e.code ?? e.message}`;
}

/** The file as it is now; `key` is its stat identity taken before the read. */
export async function readConfigText(path: string): Promise<ConfigText> {
  try {
    const key = (await statKey(path)) ?? '';
    const text = await readFile(path, 'utf8');
    return { ok: true, text, sum: digestText(text), key };
  } catch (err) {
    return { ok: false, why: reason(path, err) };
  }
}

/**
 * The file as it is at this instant, read in one go (a config is small): a reload on
 * SIGHUP reads the file the moment its turn comes, so a writer that signals after each
 * write has each version read, not a later one that the reload's own awaits let in.
 */
export function readConfigTextNow(path: string): ConfigText {
  try {
    const text = readFileSync(path, 'utf8');
    return { ok: true, text, sum: digestText(text), key: '' };
  } catch (err) {
    return { ok: false, why: reason(path, err) };
  }
}

/**
 * The file once it has stopped changing: a version counts when the same stat identity
 * and content are seen `quietMs` apart (or its mtime is already that old and the read
 * saw no write). A writer that pauses for less than `quietMs` between its chunks is
 * never caught half-way. Gives up (ok: false) when the file keeps changing for `maxMs`.
 */
export async function readSettledConfig(path: string, quietMs: number, maxMs = 60_000, now = Date.now): Promise<ConfigText> {
  const until = now() + maxMs;
  let previous: ConfigText | undefined;
  for (;;) {
    const cur = await readConfigText(path);
    if (!cur.ok) return cur;
    const after = await statKey(path);
    const unchangedByRead = after === cur.key;
    if (unchangedByRead && previous?.ok && previous.key === cur.key && previous.sum === cur.sum) return cur;
    let wait = quietMs;
    if (unchangedByRead) {
      const mtimeMs = Number(BigInt(cur.key.split(':')[2]!) / 1_000_000n);
      const age = now() - mtimeMs;
      if (age >= quietMs) return cur;
      // Not quiet yet by its mtime: look again once it would be (or after quietMs
      // when the clock and the file's mtime disagree).
      if (age >= 0 && age < quietMs) wait = quietMs - age;
    }
    if (now() + wait > until) return { ok: false, why: `Configuration file ${path} did not stop changing within ${maxMs / 1000} s` };
    previous = unchangedByRead ? cur : undefined;
    await new Promise((r) => setTimeout(r, wait));
  }
}
