// Which virtual services a reload changes, so that the convergence after it reads, compares
// and touches only those: a large config with one weight edited concerns one virtual, not
// all of them.
import type { Config, VirtualService } from '../config/model.js';
import { virtualKey } from '../ipvs/desired.js';

/**
 * Equality of config values (plain objects, arrays, sets, primitives), ignoring `line`:
 * a line added near the top moves every virtual below it without changing any. Anything
 * else (a class instance) is equal only to itself, so a doubt means "changed".
 */
export function sameConfigValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameConfigValue(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set) || !(b instanceof Set) || a.size !== b.size) return false;
    for (const x of a) if (!b.has(x)) return false;
    return true;
  }
  const plain = (o: object): boolean => {
    const proto: unknown = Object.getPrototypeOf(o);
    return proto === Object.prototype || proto === null;
  };
  if (!plain(a) || !plain(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // for-in over plain objects (own keys only: their prototype has no enumerable ones);
  // no key arrays, this runs for every real of every virtual on each reload
  let na = 0;
  for (const k in ra) {
    if (k === 'line') continue;
    na++;
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !sameConfigValue(ra[k], rb[k])) return false;
  }
  let nb = 0;
  for (const k in rb) if (k !== 'line') nb++;
  return na === nb;
}

/** The first virtual of each service key (the one the table follows). */
function firstByKey(virtuals: readonly VirtualService[]): Map<string, VirtualService> {
  const out = new Map<string, VirtualService>();
  for (const v of virtuals) {
    const k = virtualKey(v);
    if (!out.has(k)) out.set(k, v);
  }
  return out;
}

export interface ReloadPlan {
  /**
   * The new config, with each virtual that did not change (equal but for line numbers) kept
   * as the running config's object: what is cached per object (check keys, service keys)
   * stays valid, and a large config with one line edited does not build every key again. Line numbers are only used for diagnostics, at parse time.
   */
  readonly config: Config;
  /**
   * The service keys whose table entries the new config may want different: added, dropped
   * and edited virtuals. 'all' when a global setting that shapes every virtual's entries
   * (readdquiescent, the global fallbacks) changed.
   */
  readonly scope: Set<string> | 'all';
}

export function planReload(old: Config, next: Config): ReloadPlan {
  const g = old.globals;
  const h = next.globals;
  const kept = new Map<VirtualService, VirtualService>();
  // Most edits leave most blocks where they were: a virtual at the same place with the same
  // id and settings is kept without working out its service key.
  const n = Math.min(old.virtuals.length, next.virtuals.length);
  for (let i = 0; i < n; i++) {
    const a = old.virtuals[i]!;
    const b = next.virtuals[i]!;
    if (a.id === b.id && sameConfigValue(a, b)) kept.set(b, a);
  }
  const keptOld = new Set(kept.values());
  const keptKeys = new Set([...keptOld].map(virtualKey));
  // The others by service key, as the table knows them.
  const before = firstByKey(old.virtuals.filter((v) => !keptOld.has(v)));
  const after = firstByKey(next.virtuals.filter((v) => !kept.has(v)));
  const scope = new Set<string>();
  for (const [k, v] of after) {
    const was = before.get(k);
    if (was && sameConfigValue(was, v)) kept.set(v, was);
    else scope.add(k);
  }
  for (const k of before.keys()) if (!after.has(k) && !keptKeys.has(k)) scope.add(k);
  const shared =
    g.readdquiescent === h.readdquiescent && sameConfigValue(g.fallback, h.fallback) && sameConfigValue(g.fallback6, h.fallback6);
  const config: Config =
    kept.size === 0
      ? next
      : Object.freeze({
          ...next,
          virtuals: Object.freeze(next.virtuals.map((v) => kept.get(v) ?? v)),
        });
  return { config, scope: shared ? scope : 'all' };
}
