// What the status page shows of the status document: each real's state in
// the page's five words, problems first, and the counts at the top. No HTML
// here (status-page.ts), so the rules can be tested on their own.
import type { RealStatus, VirtualStatus } from './document.js';

/**
 * - up: up by its checks, at its weight;
 * - down: down by its checks (out of the table, or at weight 0 when quiescent);
 * - unknown: no check has decided it since the daemon started or the real was added;
 * - rising: passing checks toward successcount, or up and ramping (slowstart);
 * - draining: up but failing checks toward failurecount, or up with weight 0 configured.
 */
export type PageState = 'up' | 'down' | 'unknown' | 'rising' | 'draining';

export function pageState(r: RealStatus): PageState {
  if (r.state === 'up') {
    if (r.failCount > 0 || r.weight === 0) return 'draining';
    return r.slowstart ? 'rising' : 'up';
  }
  if (r.successCount > 0) return 'rising';
  return r.state;
}

const SEVERITY: Record<PageState, number> = { down: 0, draining: 1, rising: 2, unknown: 3, up: 4 };

export interface VirtualView {
  readonly v: VirtualStatus;
  readonly reals: readonly { readonly r: RealStatus; readonly state: PageState }[];
  readonly up: number;
  /** Words for what is wrong with the virtual as a whole. */
  readonly problems: readonly string[];
  /** The fallback is in the table with a weight: it takes the traffic. */
  readonly fallbackServing: boolean;
  /** 0: the service is out or nothing serves; 1: some real is not up; 2: all well. */
  readonly rank: number;
}

export function virtualView(v: VirtualStatus): VirtualView {
  const reals = v.reals.map((r) => ({ r, state: pageState(r) })).sort((a, b) => SEVERITY[a.state] - SEVERITY[b.state]);
  const up = v.reals.filter((r) => r.state === 'up').length;
  const fallbackServing = v.fallback !== null && (v.fallback.ipvsWeight ?? 0) > 0;
  const problems: string[] = [];
  if (!v.inTable) problems.push('not in the IPVS table');
  if (v.reals.length > 0 && up === 0) problems.push('no real up');
  if (fallbackServing) problems.push('fallback serving');
  const rank = problems.length > 0 ? 0 : reals.some((x) => x.state !== 'up') ? 1 : 2;
  return { v, reals, up, problems, fallbackServing, rank };
}

/** Problems first; the config's order otherwise (the sort is stable). */
export function orderVirtuals(virtuals: readonly VirtualStatus[]): VirtualView[] {
  return virtuals.map(virtualView).sort((a, b) => a.rank - b.rank);
}

export interface Totals {
  readonly virtuals: number;
  /** Virtuals with reals none of which is up. */
  readonly virtualsDown: number;
  readonly fallbacksServing: number;
  readonly reals: Readonly<Record<PageState, number>>;
}

export function totals(views: readonly VirtualView[]): Totals {
  const reals: Record<PageState, number> = { up: 0, down: 0, unknown: 0, rising: 0, draining: 0 };
  let virtualsDown = 0;
  let fallbacksServing = 0;
  for (const x of views) {
    for (const { state } of x.reals) reals[state]++;
    if (x.v.reals.length > 0 && x.up === 0) virtualsDown++;
    if (x.fallbackServing) fallbacksServing++;
  }
  return { virtuals: views.length, virtualsDown, fallbacksServing, reals };
}

/** `45s`, `3m 12s`, `2h 05m`, `3d 4h`: short enough for a phone's column. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** A check's latency: `<1 ms`, `12 ms`, `1.2 s`. */
export function latency(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}
