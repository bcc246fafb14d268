// Reads what test/cluster/guest/cluster-e2e.sh wrote (events.jsonl, client.jsonl,
// stream-*.jsonl, text files) and turns the client's requests into what the cluster test
// asserts: answers and the longest stretch without one; and what a long-lived connection
// did across a failover (streamView).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ClientRequest {
  t: number;
  port: number;
  ms: number;
  b?: string;
  e?: string;
}

export class ClusterReport {
  readonly events = new Map<string, number>();
  readonly failures: string[] = [];
  readonly requests: ClientRequest[];

  constructor(readonly dir: string) {
    for (const line of this.lines('events.jsonl')) {
      const { ev, t } = JSON.parse(line) as { ev: string; t: number };
      if (ev.startsWith('fail:')) this.failures.push(ev.slice(5));
      else if (!this.events.has(ev)) this.events.set(ev, t);
    }
    this.requests = this.lines('client.jsonl')
      .map((l) => JSON.parse(l) as ClientRequest & { ready?: number })
      .filter((r) => r.ready === undefined)
      .sort((a, b) => a.t - b.t);
  }

  /** The non-empty lines of a file of the report ('' for a missing file). */
  lines(file: string): string[] {
    const p = path.join(this.dir, file);
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : [];
  }

  text(name: string): string {
    const p = path.join(this.dir, `${name}.txt`);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }

  at(ev: string): number {
    const t = this.events.get(ev);
    if (t === undefined) throw new Error(`no event ${ev} in ${this.dir}/events.jsonl`);
    return t;
  }

  /** Requests to <port> started in [from, to] (epoch ms). */
  between(port: number, from: number, to: number): ClientRequest[] {
    return this.requests.filter((r) => r.port === port && r.t >= from && r.t <= to);
  }

  /**
   * The client's view of [from, to] on <port>: the longest time between the starts of two
   * consecutive answered requests (the first one answered before <from> counts as the
   * stretch's start), how many were not answered, and who answered.
   */
  view(port: number, from: number, to: number): { gapMs: number; failed: number; answered: Record<string, number> } {
    const before = this.requests.filter((r) => r.port === port && r.t < from && r.b !== undefined).at(-1);
    const inside = this.between(port, from, to);
    let last = before?.t ?? from;
    let gapMs = 0;
    const answered: Record<string, number> = {};
    for (const r of inside) {
      if (r.b === undefined) continue;
      gapMs = Math.max(gapMs, r.t - last);
      last = r.t;
      answered[r.b] = (answered[r.b] ?? 0) + 1;
    }
    gapMs = Math.max(gapMs, to - last);
    return { gapMs, failed: inside.filter((r) => r.b === undefined).length, answered };
  }
}

/** One line of stream.mjs: see test/cluster/guest/stream.mjs. */
export interface StreamRecord {
  port: number;
  t: number;
  local?: number;
  real?: string;
  stall?: number;
  bytes?: number;
  e?: string;
}

/** What a long-lived connection did across an event. */
export interface StreamView {
  /** who served it, and the client's port (its line in `ipvsadm -L -c -n`) */
  real: string;
  local: number;
  /** it delivered again after a stall that spans the event (IN_FLIGHT_MS): when, and the stall */
  resumedAt?: number;
  stallMs?: number;
  /** it failed after the event (error code, when) */
  error?: { e: string; t: number };
  /** it failed before the event */
  errorBefore?: string;
}

/**
 * After an event that cuts the path, what the server had already sent (up to its TCP window)
 * still arrives for a moment: a stall "spans" the event when the stream was silent at
 * <at> + this and delivered again after it.
 */
const IN_FLIGHT_MS = 5000;

/** The stream on <port> of stream-<name>.jsonl across the event at <at> (epoch ms). */
export function streamView(report: ClusterReport, name: string, port: number, at: number): StreamView {
  const recs = report
    .lines(`stream-${name}.jsonl`)
    .map((l) => JSON.parse(l) as StreamRecord)
    .filter((s) => s.port === port);
  const first = recs.find((s) => s.local !== undefined);
  const v: StreamView = { real: first?.real ?? '', local: first?.local ?? 0 };
  for (const s of recs) {
    if (s.e !== undefined && s.t <= at) v.errorBefore = s.e;
    if (s.e !== undefined && s.t > at && v.error === undefined) v.error = { e: s.e, t: s.t };
    const mark = at + IN_FLIGHT_MS;
    if (s.stall !== undefined && s.t > mark && s.t - s.stall <= mark && v.resumedAt === undefined && v.error === undefined) {
      v.resumedAt = s.t;
      v.stallMs = s.stall;
    }
  }
  return v;
}
