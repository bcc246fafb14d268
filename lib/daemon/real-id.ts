// The key that ties a real server to its check state (spec §3.1 "Real id"):
// reals with the same key in different virtuals are checked once and change
// state together, as in the original. Changing any part (weight, request, ...)
// separates them.
import type { RealServer, VirtualService } from '../config/model.js';

export function checkSpec(v: VirtualService): string {
  const t = v.checktype;
  if (t.kind === 'negotiate' || t.kind === 'combined') return `${t.kind}:${v.service}`;
  if (t.kind === 'external' || t.kind === 'external-perl') return `${t.kind}:${v.checkcommand}`;
  return t.kind;
}

/** Perl's quotemeta: the id is the original's string, which monitorfile lines show. */
function quotemeta(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '\\$&');
}

/**
 * Once per (virtual, real) pair: config objects are never changed, and the keys (and the
 * checks' targets) are asked for every real at every convergence, reload or probe (a join
 * and two quotemeta replaces per real each time, with thousands of reals). A reload brings
 * new objects; the old entries go with the old config. Every memo of a pair lives in one
 * object under one WeakMap entry (a WeakMap entry and a record per memo would cost each
 * real as much again, in the heap for the daemon's life).
 */
export function perPair<T>(compute: (v: VirtualService, r: RealServer) => T): (v: VirtualService, r: RealServer) => T {
  const slot = nextSlot++;
  if (slot >= PAIR_SLOTS) throw new Error(`perPair: at most ${PAIR_SLOTS} memos`);
  return (v, r) => {
    let m = pairMemos.get(r);
    if (m === undefined || m.virtual !== v) pairMemos.set(r, (m = new PairMemo(v)));
    const hit = m.get(slot);
    if (hit !== undefined) return hit as T;
    const value = compute(v, r);
    m.set(slot, value);
    return value;
  };
}

const PAIR_SLOTS = 4;
let nextSlot = 0;

/** A pair's memos in fixed fields (no array): its virtual and one value per perPair(). */
class PairMemo {
  private s0: unknown = undefined;
  private s1: unknown = undefined;
  private s2: unknown = undefined;
  private s3: unknown = undefined;
  constructor(readonly virtual: VirtualService) {}
  get(slot: number): unknown {
    return slot === 0 ? this.s0 : slot === 1 ? this.s1 : slot === 2 ? this.s2 : this.s3;
  }
  set(slot: number, value: unknown): void {
    if (slot === 0) this.s0 = value;
    else if (slot === 1) this.s1 = value;
    else if (slot === 2) this.s2 = value;
    else this.s3 = value;
  }
}

const pairMemos = new WeakMap<RealServer, PairMemo>();

/**
 * The original's real id (spec §3.1), which monitorfile lines and transitions show: made
 * when asked, not kept, since it is asked for far more seldom than a check runs.
 */
export function realId(v: VirtualService, r: RealServer): string {
  const request = r.request ?? v.request;
  const receive = r.receive ?? v.receive;
  return [
    checkSpec(v),
    v.protocol,
    r.ip,
    r.port,
    v.virtualhost ?? '',
    v.checkport ?? '',
    r.weight,
    r.forward,
    quotemeta(request),
    quotemeta(receive),
  ].join(':');
}

/**
 * What a check's outcome depends on: the real id without weight and forwarding
 * method. Reals with the same key are checked once; a reload that changes only
 * a weight keeps the real's state (the original re-added it with full weight).
 */
export const checkKey = perPair((v, r) => {
  const request = r.request ?? v.request;
  const receive = r.receive ?? v.receive;
  return [checkSpec(v), v.protocol, r.ip, r.port, v.virtualhost ?? '', v.checkport ?? '', quotemeta(request), quotemeta(receive)].join(':');
});

/** `<rip:port>` as log lines and alerts name a real. */
export function realAddress(r: { ip: string; port: number }): string {
  return `${r.ip}:${r.port}`;
}
