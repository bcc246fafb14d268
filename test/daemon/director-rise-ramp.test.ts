// successcount and slowstart through the director, against the fake ipvsadm
// in-process with a scripted probe: what reaches the table, what is logged and
// mailed, and when. (The whole daemon with real HTTP checks: test/cli/status-json.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { closeHarnesses, harness, running, waitFor } from './helpers/director-harness.js';

afterEach(closeHarnesses);

const RISE = `checkinterval=1
fallback=127.0.0.9:80 masq
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 2
    successcount=3
`;

describe('successcount', () => {
  it('a real is added only after 3 passes in a row; the fallback stands in meanwhile', async () => {
    const h = await running(RISE, ['127.0.0.2:80']);
    // First pass at start-up: not up yet, so the fallback goes in at once.
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.0.9:80 -m -w 1']);
    expect(h.logs).toContain('Soft success real server: 127.0.0.2:80 (tcp:192.0.2.1:80) success 1/3');
    // the SIGUSR1 dump shows the rise
    expect(h.director.statusLines()).toContain('  tcp:192.0.2.1:80 real 127.0.0.2:80 down (1/3 successes), last check ok: OK');
    await waitFor(() => h.logs.some((l) => l.startsWith('Added real server')));
    expect(h.logs.filter((l) => /Soft success|Added real|Deleted fallback/.test(l))).toEqual([
      'Soft success real server: 127.0.0.2:80 (tcp:192.0.2.1:80) success 1/3',
      'Soft success real server: 127.0.0.2:80 (tcp:192.0.2.1:80) success 2/3',
      'Added real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 2)',
      'Deleted fallback server: 127.0.0.9:80 (192.0.2.1:80)',
    ]);
    const t1 = h.timed.find((l) => l.line.endsWith('success 1/3'))!.at;
    const t3 = h.timed.find((l) => l.line.startsWith('Added real'))!.at;
    // two more checks: after start-up the next one is spread over one interval (1 s), the
    // third a full interval later (20 ms timer slots)
    expect(t3 - t1).toBeGreaterThanOrEqual(960);
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 2']);
  });

  it('a failure while rising starts the count again', async () => {
    const h = await harness(RISE.replace('successcount=3', 'successcount=2'));
    let n = 0;
    // pass, fail, pass, pass: up only on the fourth check
    const results = [true, false, true, true];
    h.script.next = () => results[Math.min(n++, results.length - 1)]!;
    await h.director.start();
    await h.director.run();
    await waitFor(() => h.logs.some((l) => l.startsWith('Added real server')));
    expect(n).toBeGreaterThanOrEqual(4);
    expect(h.logs.filter((l) => l.startsWith('Soft success'))).toEqual([
      'Soft success real server: 127.0.0.2:80 (tcp:192.0.2.1:80) success 1/2',
      'Soft success real server: 127.0.0.2:80 (tcp:192.0.2.1:80) success 1/2',
    ]);
  });

  it('a real already serving when the daemon starts keeps its traffic (no rise to sit out)', async () => {
    const h = await harness(RISE, [
      ['-A', '-t', '192.0.2.1:80', '-s', 'wrr'],
      ['-a', '-t', '192.0.2.1:80', '-r', '127.0.0.2:80', '-m', '-w', '2'],
    ]);
    h.up.set('127.0.0.2:80', true);
    await h.director.start();
    await h.director.run();
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 2']);
    expect(h.logs.filter((l) => /Soft success|fallback/.test(l))).toEqual([]);
  });
});

const RAMP = `checkinterval=1
quiescent=yes
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 4
    real=127.0.0.3:80 masq 1
    slowstart=2
`;

describe('slowstart', () => {
  it('no ramp for the initial checks at start-up: full weights at once', async () => {
    const h = await running(RAMP, ['127.0.0.2:80', '127.0.0.3:80']);
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 4');
  });

  it('a recovered real climbs 2, 3, 4 one second apart, logged each time, mailed once', async () => {
    const h = await running(RAMP, ['127.0.0.3:80']);
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 1']);
    h.up.set('127.0.0.2:80', true);
    const v = h.director.currentConfig.virtuals[0]!;
    await waitFor(() => h.director.realView(v, v.reals[0]!).rampEndsAt !== undefined);
    // The ramp is anchored where the real came up: rampEndsAt is that moment plus slowstart.
    const since = h.director.realView(v, v.reals[0]!).rampEndsAt! - 2000;
    await waitFor(() => h.table().includes('-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 4'));
    const ramp = h.timed.filter((l) => l.line.includes('127.0.0.2:80'));
    expect(ramp.map((l) => l.line)).toEqual([
      'Added real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 2)',
      'Restored real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 3)',
      'Restored real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 4)',
    ]);
    // Step k is due k seconds after the real came up: never logged before that (each line
    // follows its ipvsadm run, so the gaps between lines also carry ipvsadm's latency), and
    // the ramp ends within a few seconds.
    expect(ramp[1]!.at - since).toBeGreaterThanOrEqual(1000);
    expect(ramp[2]!.at - since).toBeGreaterThanOrEqual(2000);
    expect(ramp[2]!.at - since).toBeLessThan(5000);
    expect(h.alerts.map((a) => a.subject).filter((a) => a.includes('127.0.0.2:80'))).toEqual([
      'Added real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 2)',
    ]);
    // the status view shows the ramp while it runs, and not after
    expect(h.director.realView(v, v.reals[0]!)).toMatchObject({ state: 'up', wantWeight: 4 });
    expect(h.director.realView(v, v.reals[0]!).rampEndsAt).toBeUndefined();
  });

  it('a real that goes down mid-ramp is quiesced, and ramps again from the start when back', async () => {
    // weight 4 over 10 s: 1, 2, 3 (3.3 s each), then 4
    const h = await running(RAMP.replace('slowstart=2', 'slowstart=10'), ['127.0.0.3:80']);
    h.up.set('127.0.0.2:80', true);
    await waitFor(() => h.table().includes('-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 1'));
    const v = h.director.currentConfig.virtuals[0]!;
    expect(h.director.realView(v, v.reals[0]!)).toMatchObject({ state: 'up', wantWeight: 1 });
    expect(h.director.realView(v, v.reals[0]!).rampEndsAt).toBeGreaterThan(Date.now() + 5000);
    expect(h.director.statusLines()).toContain('  tcp:192.0.2.1:80 real 127.0.0.2:80 up (slow start: weight 1 of 4), last check ok: OK');
    h.up.set('127.0.0.2:80', false);
    await waitFor(() => h.table().includes('-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 0'));
    h.up.set('127.0.0.2:80', true);
    await waitFor(() => h.logs.includes('Restored real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 1)'));
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 1');
    expect(h.logs.filter((l) => l.includes('127.0.0.2:80'))).toEqual([
      'Added real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 1)',
      'Quiescent real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 0)',
      'Restored real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 1)',
    ]);
  });
});
