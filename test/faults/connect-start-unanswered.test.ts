// The runner's connect checks go through Checker.start(), without a promise. A real whose
// SYNs are dropped (an accept queue kept full) must be ended by the check's own signal at
// checktimeout, reported down, and leave no TCP handle behind; the healthy real beside it
// stays up, checked every interval. Real connect checker (the runner's registry), real
// listeners, real timers. Addresses: 127.0.132.71 (ports 23130-23131).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CheckRunner } from '../../lib/daemon/check-runner.js';
import { parse } from '../config/parse-helpers.js';
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => /^TCP/.test(r) && !/Server/.test(r)).length;

it('a connect that is never answered ends at its deadline through start(): down, no handle left, the healthy real up', async (ctx) => {
  if (deaf === undefined) ctx.skip();
  const r = await parse(
    `checkinterval=1\nchecktimeout=1\nvirtual=10.0.0.1:80\n    real=${HOST}:23130 masq\n    real=${HOST}:23131 masq\n    checktype=connect\n`,
  );
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  const before = tcpHandles();
  const results: { port: number; ok: boolean; detail: string | undefined; ms: number }[] = [];
  const runner = new CheckRunner({
    onTransition: (e, _t, result) => {
      if (result) results.push({ port: e.members[0]!.real.port, ok: result.ok, detail: result.detail, ms: result.durationMs });
    },
  });
  runner.update(r.config);
  runner.start();
  await sleep(3_500);
  await runner.stop();
  // A cancelled connect's handle is gone once its close callback has run (the next turns).
  await sleep(200);
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
  expect(tcpHandles()).toBe(before);
});
