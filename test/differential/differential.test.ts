// Side by side with the original: Debian's ldirectord and ours, each in -d mode with its own
// fake IPVS table, on the same configs and the same real servers, through start, a real going
// down, coming back, a reload and a stop. Every difference must be one the scenario declares
// with its §10 reason (see SCENARIOS.md).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ORIGINAL } from './support/director.js';
import { runScenario } from './support/run-scenario.js';
import { judgePhase, sanity } from './support/verdict.js';
import { SCENARIOS } from './scenarios.js';

const haveOriginal = existsSync(ORIGINAL) && existsSync('/usr/bin/perl');
const inCI = Boolean(process.env.CI);

if (inCI && !haveOriginal) {
  it('has the original ldirectord (required in CI)', () => {
    expect.fail(`${ORIGINAL} is missing: .ci/install.d/10-original-ldirectord.sh installs it`);
  });
}

describe.skipIf(!haveOriginal).concurrent('differential: the original and ours side by side', () => {
  SCENARIOS.forEach((sc, index) => {
    it(sc.name, { timeout: 240_000 }, async () => {
      const rec = await runScenario(sc, index);
      const exp = sc.expected(rec.net);
      const problems = [...sanity(rec), ...rec.phases.flatMap((ph) => judgePhase(ph, exp[ph.phase]))];
      const timing = rec.phases.map((ph) => `${ph.phase} ${ph.ms} ms`).join(', ');
      expect(problems, `${sc.name} (${timing})\n${problems.join('\n')}\n--- original stderr ---\n${rec.stderr.original.slice(-4000)}\n--- ours stderr ---\n${rec.stderr.ours.slice(-4000)}`).toEqual([]);
    });
  });
});
