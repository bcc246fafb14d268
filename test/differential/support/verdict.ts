// Holds a scenario's record against its expected differences. Anything not declared is a
// problem: a bug in ours, or a difference missing from §10 and the man page.
import { hostOf, mentionsHost, multisetDiff } from './analysis.js';
import type { PhaseRecord, ScenarioRecord } from './run-scenario.js';
import type { Expected } from './scenario.js';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

function unexplained(lines: readonly string[], allowed: readonly RegExp[] | undefined, flapHosts: readonly string[]): string[] {
  return lines.filter((l) => !mentionsHost(l, flapHosts) && !(allowed ?? []).some((r) => r.test(l)));
}

/** Problems with one phase; empty when every difference is the declared one. */
export function judgePhase(rec: PhaseRecord, exp: Expected = {}): string[] {
  const p: string[] = [];
  const at = `[${rec.phase}]`;
  if (!rec.settled) p.push(`${at} did not settle within the time limit`);

  const t = multisetDiff(rec.original.table, rec.ours.table);
  const wantOrig = exp.table?.onlyOriginal ?? [];
  const wantOurs = exp.table?.onlyOurs ?? [];
  if (!sameSet(t.onlyOriginal, wantOrig) || !sameSet(t.onlyOurs, wantOurs)) {
    p.push(
      `${at} tables differ other than expected` +
        `\n  only the original: ${JSON.stringify(t.onlyOriginal)} (expected ${JSON.stringify(wantOrig)})` +
        `\n  only ours:         ${JSON.stringify(t.onlyOurs)} (expected ${JSON.stringify(wantOurs)})` +
        `\n  original: ${JSON.stringify(rec.original.table)}\n  ours:     ${JSON.stringify(rec.ours.table)}`,
    );
  }

  // §10: no real gets weight before a successful check, so ours never flaps.
  if (rec.ours.flaps.length > 0) p.push(`${at} ours flapped ${JSON.stringify(rec.ours.flaps)}`);
  const wantFlap = exp.flap ?? [];
  if (!sameSet(rec.original.flaps, wantFlap)) {
    p.push(`${at} the original flapped ${JSON.stringify(rec.original.flaps)}, expected ${JSON.stringify(wantFlap)}`);
  }

  const f = multisetDiff(rec.original.fallbackRuns, rec.ours.fallbackRuns);
  if (!sameSet(f.onlyOriginal, exp.fallbackRuns?.onlyOriginal ?? []) || !sameSet(f.onlyOurs, exp.fallbackRuns?.onlyOurs ?? [])) {
    p.push(
      `${at} fallbackcommand runs differ other than expected\n  only the original: ${JSON.stringify(f.onlyOriginal)}\n  only ours: ${JSON.stringify(f.onlyOurs)}`,
    );
  }

  const flapHosts = wantFlap.map(hostOf);
  for (const [what, o, u] of [
    ['messages', rec.original.messages, rec.ours.messages],
    ['mails', rec.original.mails, rec.ours.mails],
  ] as const) {
    const d = multisetDiff(o, u);
    const badO = unexplained(d.onlyOriginal, exp.messages?.onlyOriginal, flapHosts);
    const badU = unexplained(d.onlyOurs, exp.messages?.onlyOurs, flapHosts);
    if (badO.length > 0 || badU.length > 0) {
      p.push(
        `${at} ${what} differ other than expected\n  only the original: ${JSON.stringify(badO)}\n  only ours: ${JSON.stringify(badU)}`,
      );
    }
  }
  return p;
}

/**
 * Guards against a scenario that proves nothing: the directors built a table, the down phase
 * changed the tables it should, and a mail scenario received mail on both sides.
 */
export function sanity(
  rec: ScenarioRecord,
  o: { downChanges?: 'both' | 'ours' | 'none'; mail?: boolean; fallbackRuns?: boolean } = {},
): string[] {
  const p: string[] = [];
  const get = (phase: string) => rec.phases.find((x) => x.phase === phase);
  const start = get('start');
  const down = get('down');
  if (!start || !down) return ['a phase is missing'];
  if (start.original.table.length === 0 || start.ours.table.length === 0) p.push('[start] a director built no table');
  for (const side of ['original', 'ours'] as const) {
    const e = rec.exits[side];
    if (e.phase !== 'stop' || e.code !== 0) p.push(`${side} exited with ${e.code} in phase ${e.phase ?? '(none)'}; expected 0 at stop`);
  }
  const changed = {
    original: start.original.table.join() !== down.original.table.join(),
    ours: start.ours.table.join() !== down.ours.table.join(),
  };
  const want = o.downChanges ?? 'both';
  const expect = { original: want === 'both', ours: want !== 'none' };
  for (const side of ['original', 'ours'] as const) {
    if (changed[side] !== expect[side])
      p.push(`[down] ${side}: the table ${changed[side] ? 'changed' : 'did not change'}, expected otherwise`);
  }
  if (o.fallbackRuns && rec.phases.every((ph) => ph.original.fallbackRuns.length === 0 || ph.ours.fallbackRuns.length === 0)) {
    p.push('fallbackcommand: no phase in which both sides ran it');
  }
  if (o.mail) {
    for (const side of ['original', 'ours'] as const) {
      if (rec.phases.every((ph) => ph[side].mails.length === 0)) p.push(`${side}: no mail received`);
    }
  }
  return p;
}
