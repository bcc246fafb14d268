// The director when signals overlap its work: a reload while a convergence reads the table,
// and a stop while a reload is under way. Under load these overlap: the daemon must neither
// fail with "desired service ... is not among the managed services" nor re-add its table
// after its clean stop.
import { afterEach, describe, expect, it } from 'vitest';
import { assembleDirector } from '../../lib/daemon/assemble-director.js';
import type { Director } from '../../lib/daemon/director.js';
import { scriptedCheckers } from './helpers/scripted-checker.js';
import type { IpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { fakeIpvsadm, type FakeIpvsadm } from '../support/fake-ipvsadm-helper.js';
import { parse } from '../config/parse-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The in-process fake, each run delayed: IPVS on a loaded machine. */
function slow(inner: IpvsadmRunner, ms: number): IpvsadmRunner {
  return { path: inner.path, run: async (args, input, onStdout) => (await sleep(ms), inner.run(args, input, onStdout)) };
}

const fakes: FakeIpvsadm[] = [];
const directors: Director[] = [];
afterEach(async () => {
  for (const d of directors.splice(0)) await d.stop().catch(() => undefined);
  for (const f of fakes.splice(0)) f.cleanup();
});

const ONE = `checkinterval=1
virtual=192.0.2.18:80
    real=127.0.0.2:80 masq
virtual=192.0.2.19:80
    real=127.0.0.3:80 masq
`;
const TWO = ONE.replace('192.0.2.19:80', '192.0.2.20:80');

async function director(text: string, delayMs: number): Promise<{ d: Director; fake: FakeIpvsadm; logs: string[] }> {
  const r = await parse(text);
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  const fake = fakeIpvsadm();
  fakes.push(fake);
  const logs: string[] = [];
  const { director: d } = assembleDirector(r.config, {
    log: { log: (m) => logs.push(m), debug: () => undefined },
    ipvsadm: slow(fake.inProcess(), delayMs),
    alerts: { alert: () => undefined, sendReminders: () => 0 },
    monitor: { write: () => undefined },
    checkers: scriptedCheckers(async () => ({ ok: true, message: 'OK', durationMs: 1 })),
  });
  directors.push(d);
  return { d, fake, logs };
}

const table = (fake: FakeIpvsadm) => fake.sh('-S', '-n').split('\n').filter(Boolean).sort();

describe('Director, overlapping work', () => {
  it('a reload that adds a virtual while a convergence reads the table: no crash, the new table', async () => {
    const { d, fake } = await director(ONE, 30);
    await d.start();
    await d.run();
    const next = (await parse(TWO)).config!;
    // A convergence (drift repair, a check result) is reading the table when the reload swaps the config.
    const inFlight = d.requestConverge();
    await sleep(5);
    await Promise.all([inFlight, d.reload(next)]);
    await d.requestConverge();
    expect(table(fake)).toEqual([
      '-A -t 192.0.2.18:80 -s wrr',
      '-A -t 192.0.2.20:80 -s wrr',
      '-a -t 192.0.2.18:80 -r 127.0.0.2:80 -m -w 1',
      '-a -t 192.0.2.20:80 -r 127.0.0.3:80 -m -w 1',
    ]);
  });

  it('a stop during a reload: the table is purged and stays purged', async () => {
    const { d, fake, logs } = await director(ONE, 30);
    await d.start();
    await d.run();
    expect(table(fake)).toHaveLength(4);
    const reloading = d.reload((await parse(TWO)).config!);
    await sleep(10);
    await Promise.all([d.stop(), reloading]);
    expect(table(fake)).toEqual([]);
    // Neither a drift repair nor a check may bring anything back.
    await sleep(1500);
    expect(table(fake)).toEqual([]);
    // Whatever the reload applied before the stop came, nothing was added after the purge.
    const purged = logs.map((l) => /^Purged/.test(l)).lastIndexOf(true);
    expect(purged).toBeGreaterThan(-1);
    expect(logs.slice(purged + 1).filter((l) => /^Added/.test(l))).toEqual([]);
  });

  it('a stop during the first checks: nothing comes back after the purge', async () => {
    const { d, fake } = await director(ONE, 30);
    await d.start();
    const running = d.run();
    await d.stop();
    await running;
    await sleep(1500);
    expect(table(fake)).toEqual([]);
  });
});
