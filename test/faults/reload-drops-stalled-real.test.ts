// A reload drops a real while its check is stalled on a back end that accepts and never
// answers. The dropped real must not be checked again, its connection must still be closed
// at the check's deadline (no socket left behind), and the real that stays goes on being
// checked. Real http checker (the runner's own registry), real servers, real timers.
// Addresses: 127.0.132.61 (ports 23120-23121).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CheckRunner } from '../../lib/daemon/check-runner.js';
import { parse } from '../config/parse-helpers.js';
import { closeGoodAndStalled, startGoodAndStalled, type GoodAndStalled } from './support/hostile-servers.js';

const HOST = '127.0.132.61';
let servers: GoodAndStalled | undefined;

beforeAll(async () => {
  servers = await startGoodAndStalled(HOST, 23120);
});

afterAll(() => closeGoodAndStalled(servers));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function config(reals: number[]) {
  const lines = reals.map((port) => `    real=${HOST}:${port} masq\n`).join('');
  const r = await parse(`checkinterval=1\nchecktimeout=2\nvirtual=10.0.0.1:80\n${lines}    service=http\n    request="/"\n`);
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  return r.config;
}

it('a real dropped by a reload while its check stalls: never checked again, its socket closed at the deadline', async () => {
  const { good, stall } = servers!;
  const downs: string[] = [];
  const runner = new CheckRunner({
    onTransition: (e, t) => {
      if (t.kind === 'down') downs.push(`${e.members[0]!.real.port}`);
    },
    random: () => 0,
  });
  runner.update(await config([23120, 23121]));
  runner.start();
  try {
    // Both first checks start at once; the stalled one holds its connection open.
    const deadline = Date.now() + 1_500;
    while (stall.accepted() === 0 && Date.now() < deadline) await sleep(20);
    expect(stall.accepted()).toBe(1);
    expect(stall.open()).toBe(1);
    runner.update(await config([23120]));
    const goodBefore = good.accepted();
    // The stalled check's deadline (2 s), its grace, and two more intervals.
    await sleep(4_000);
    expect(stall.accepted()).toBe(1);
    expect(await stall.allClosed(1_000)).toBe(true);
    expect(good.accepted() - goodBefore).toBeGreaterThanOrEqual(2);
    expect([...runner.all()].map((e) => e.members[0]!.real.port)).toEqual([23120]);
    expect(downs).not.toContain('23120');
  } finally {
    await runner.stop();
  }
}, 20_000);
