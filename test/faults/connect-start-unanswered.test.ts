// The runner's connect checks go through Checker.start(), without a promise. A real whose
// SYNs are dropped (an accept queue kept full) must be ended by the check's own signal at
// checktimeout, reported down, and leave no TCP handle behind; the healthy real beside it
// stays up, checked every interval. Real connect checker (the runner's registry), real
// listeners, real timers. Addresses: 127.0.132.71 (ports 23130-23131).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runChecks } from './support/runner-results.js';
import {
  havePython,
  startHealthyServer,
  startUnacceptingListener,
  type TrackedServer,
  type Unaccepting,
} from './support/hostile-servers.js';

const HOST = '127.0.132.71';
let good: TrackedServer | undefined;
let deaf: Unaccepting | undefined;

beforeAll(async () => {
  good = await startHealthyServer('http', { host: HOST, port: 23130 });
  if (await havePython()) deaf = await startUnacceptingListener(HOST, 23131);
});

afterAll(async () => {
  await good?.close();
  await deaf?.close();
});

it('a connect that is never answered ends at its deadline through start(): down, no handle left, the healthy real up', async (ctx) => {
  if (deaf === undefined) ctx.skip();
  const { results, handlesBefore, handlesAfter } = await runChecks(
    `checkinterval=1\nchecktimeout=1\nvirtual=10.0.0.1:80\n    real=${HOST}:23130 masq\n    real=${HOST}:23131 masq\n    checktype=connect\n`,
    3_500,
  );
  const deafResults = results.filter((x) => x.port === 23131);
  const goodResults = results.filter((x) => x.port === 23130);
  expect(deafResults.length).toBeGreaterThanOrEqual(1);
  expect(deafResults.every((x) => !x.ok && /timed out/.test(x.detail ?? ''))).toBe(true);
  // Ended by its own signal at checktimeout (1 s): the runner's expiry would say "Timeout".
  // A window, not the deadline's slot: a loaded machine fires timers late.
  for (const x of deafResults) {
    expect(x.ms).toBeGreaterThanOrEqual(950);
    expect(x.ms).toBeLessThan(1_900);
  }
  expect(goodResults.length).toBeGreaterThanOrEqual(3);
  expect(goodResults.every((x) => x.ok)).toBe(true);
  expect(handlesAfter).toBe(handlesBefore);
});
