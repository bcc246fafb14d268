// What a phase did, from the recorded table history, log lines and mails: the settled table,
// the entries that changed more than once (flaps), and multiset differences between the
// original's and our transition messages.
import type { TableSnapshot } from './ipvsadm-server.js';

/** `-a <service> -r <real> <rest>` -> key "<service> -r <real>", value "<rest>"; `-A` lines by service. */
function entry(line: string): { key: string; value: string } {
  const m = /^(-a .* -r \S+) (.*)$/.exec(line);
  if (m) return { key: m[1]!, value: m[2]! };
  const s = /^(-A -[tuf] \S+(?: -6)?) (.*)$/.exec(line);
  return s ? { key: s[1]!, value: s[2]! } : { key: line, value: '' };
}

/** The table in force at time t (the last snapshot at or before it). */
export function tableAt(history: readonly TableSnapshot[], t: number): readonly string[] {
  let table: readonly string[] = [];
  for (const h of history) {
    if (h.at > t) break;
    table = h.table;
  }
  return table;
}

/**
 * Entries whose value (absent, or weight/forward/thresholds) changed more than once between
 * `from` and `to`: added then removed, removed then re-added, given weight then quiesced.
 * A director that decides each real once per phase never does this; the original's
 * start-up and reload reconciliation does it to every real that is down (spec §4.3).
 * Returned as the real server's address part (`127.0.60.3:8080`), sorted, unique.
 */
export function flaps(history: readonly TableSnapshot[], from: number, to: number): string[] {
  const seq = [tableAt(history, from), ...history.filter((h) => h.at > from && h.at <= to).map((h) => h.table)];
  const keys = new Set(seq.flatMap((t) => t.map((l) => entry(l).key)));
  const out = new Set<string>();
  for (const key of keys) {
    let changes = 0;
    let prev: string | undefined;
    seq.forEach((t, i) => {
      const line = t.find((l) => entry(l).key === key);
      const v = line === undefined ? '(absent)' : entry(line).value;
      if (i > 0 && v !== prev) changes++;
      prev = v;
    });
    if (changes > 1) out.add(/ -r (\S+)$/.exec(key)?.[1] ?? key);
  }
  return [...out].sort();
}

export interface MultisetDiff {
  readonly onlyOriginal: string[];
  readonly onlyOurs: string[];
}

export function multisetDiff(original: readonly string[], ours: readonly string[]): MultisetDiff {
  const count = new Map<string, number>();
  for (const s of original) count.set(s, (count.get(s) ?? 0) + 1);
  const onlyOurs: string[] = [];
  for (const s of ours) {
    const n = count.get(s) ?? 0;
    if (n > 0) count.set(s, n - 1);
    else onlyOurs.push(s);
  }
  const onlyOriginal = [...count].flatMap(([s, n]) => Array<string>(n).fill(s));
  return { onlyOriginal: onlyOriginal.sort(), onlyOurs: onlyOurs.sort() };
}

/**
 * The log lines that record a change of the table (spec §6 transition messages), which are
 * also the subjects of the e-mail alerts. Virtual-server lines are left out: the original
 * writes "Changed virtual server" at every reload, and the tables already compare the
 * services themselves.
 */
export const TRANSITION = /^(?:\[[^\]]*\] )?(?:Added|Restored|Deleted|Quiescent|Readd Quiescent|Purged) (?:real|fallback) server/;

/** The host part of an ip:port (`[::1]` for IPv6), to tie a message to a flapped real. */
export function hostOf(address: string): string {
  return address.startsWith('[') ? address.slice(0, address.indexOf(']') + 1) : address.replace(/:\d+$/, '');
}

/** Whether a message names one of these hosts (as `<host>:` so 127.0.60.1 does not match 127.0.60.12). */
export function mentionsHost(message: string, hosts: readonly string[]): boolean {
  return hosts.some((h) => message.includes(`${h}:`));
}
