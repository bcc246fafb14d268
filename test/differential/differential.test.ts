// Side by side with the original: Debian's ldirectord and ours, each in -d mode with its own
// fake IPVS table, on the same configs and the same real servers, through start, a real going
// down, coming back, a reload and a stop. Every difference must be one the scenario declares
// with its §10 reason (see SCENARIOS.md, which lists every scenario).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORIGINAL } from './support/director.js';
import { runScenario, type ScenarioRecord } from './support/run-scenario.js';
import { judgePhase, sanity } from './support/verdict.js';
import { SCENARIOS } from './scenarios.js';

const haveOriginal = existsSync(ORIGINAL) && existsSync('/usr/bin/perl') && existsSync('/bin/bash');
/**
 * Root: the real servers listen on ports 25, 53 and 80 (the original cannot mail to another
 * port than 25), and the original's connect check of a UDP service is an ICMP ping.
 */
const isRoot = process.getuid?.() === 0;
const inCI = Boolean(process.env.CI);
/**
 * Scenarios run this many at a time. Each one mostly waits (for check intervals and for the
 * tables to settle), so this is bounded by CPU only: two daemons and a few servers each.
 */
const CONCURRENCY = Number(process.env.LDTS_DIFF_CONCURRENCY ?? 4);
/** For debugging: LDTS_DIFF_ONLY=name,name runs only those; LDTS_DIFF_DUMP=dir keeps each record there. */
const ONLY = process.env.LDTS_DIFF_ONLY?.split(',');
const DUMP = process.env.LDTS_DIFF_DUMP;

if (inCI && (!haveOriginal || !isRoot)) {
  it('has the original ldirectord and runs as root (required in CI)', () => {
    expect.fail(`${ORIGINAL} installed (.ci/install.d/10-original-ldirectord.sh): ${haveOriginal}; root: ${isRoot}`);
  });
}

it('SCENARIOS.md has a row for every scenario', () => {
  const doc = readFileSync(new URL('SCENARIOS.md', import.meta.url), 'utf8');
  const missing = SCENARIOS.filter((sc) => !doc.includes(`| ${sc.name} |`)).map((sc) => sc.name);
  expect(missing).toEqual([]);
  expect(SCENARIOS.length).toBeGreaterThanOrEqual(20);
});

describe.skipIf(!haveOriginal || !isRoot)('differential: the original and ours side by side', () => {
  const results = new Map<string, ScenarioRecord | Error>();
  beforeAll(async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < SCENARIOS.length) {
        const index = next++;
        const sc = SCENARIOS[index]!;
        if (ONLY && !ONLY.includes(sc.name)) continue;
        try {
          const rec = await runScenario(sc, index);
          results.set(sc.name, rec);
          if (DUMP) writeFileSync(`${DUMP}/${sc.name}.json`, JSON.stringify(rec, null, 1));
        } catch (e) {
          results.set(sc.name, e as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }, 900_000);

  for (const sc of SCENARIOS) {
    it.skipIf(ONLY !== undefined && !ONLY.includes(sc.name))(sc.name, () => {
      const rec = results.get(sc.name);
      if (rec instanceof Error) throw rec;
      expect(rec, 'the scenario did not run').toBeDefined();
      const exp = sc.expected(rec!.net);
      const problems = [
        ...sanity(rec!, {
          ...(sc.downChanges ? { downChanges: sc.downChanges } : {}),
          ...(sc.mail ? { mail: true } : {}),
          ...(sc.fallbackRuns ? { fallbackRuns: true } : {}),
        }),
        ...rec!.phases.flatMap((ph) => judgePhase(ph, exp[ph.phase])),
      ];
      const timing = rec!.phases.map((ph) => `${ph.phase} ${ph.ms} ms`).join(', ');
      expect(
        problems,
        `${sc.name} (${timing})\n${problems.join('\n')}\n--- original stderr ---\n${messagesOnly(rec!.stderr.original)}\n--- ours stderr ---\n${messagesOnly(rec!.stderr.ours)}`,
      ).toEqual([]);
    });
  }
});

/** A director's stderr without its debug chatter, for the failure message. */
function messagesOnly(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^DEBUG\d: |^Running system\(|^Use of uninitialized/.test(l))
    .slice(-60)
    .join('\n');
}
