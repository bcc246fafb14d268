// Connect checks beside keepalived (bench/keepalived.mjs, scaled down): 2,000 reals each,
// interval 2 s, timeout 1 s, keepalived checker-only through the IPVS shim on 127.0.148.x and
// our daemon on 127.0.149.x, at the same time (windows aligned), in one run. Only the ratio of
// CPU per check (ours with the ipvsadm runs it waited for / keepalived's parent + checker) is
// compared: a busy CI machine slows both sides alike, and at the same time alike most of all.
// keepalived then proves the shim leaves it checking: killed listeners go to weight 0 and come
// back when they listen again.
import { describe, expect, it } from 'vitest';
import { benchReals, measureSide, windowBarrier } from '../../bench/keepalived.mjs';
import { keepalivedMissing } from '../../bench/keepalived-harness.mjs';
import { startServers } from '../../bench/daemon-harness.mjs';

interface Side {
  checksPerSecond: number;
  cpuUsPerCheck: number;
  childUsPerCheck: number;
  proof?: { kills: number; downMs: number[]; upMs: number[] };
}

/**
 * Ours / keepalived, CPU per connect check with the table reads counted in. With the sides
 * at the same time the ratio stays near 1 on the development machine; the old per-check
 * cost was four times keepalived's (bench/RESULTS.md, "CI ratio check"). Failing above 2
 * leaves room for a loaded CI machine and still catches that cost coming back.
 */
const MAX_CPU_RATIO = 2;
const REALS = 2_000;
const INTERVAL = 2;
const TIMEOUT = 1;

const missing = keepalivedMissing();

describe('connect CPU per check beside keepalived (bench/keepalived.mjs)', () => {
  it.skipIf(missing !== undefined)(
    `stays within ${MAX_CPU_RATIO}x keepalived's${missing ? ` (skipped: ${missing})` : ''}`,
    { timeout: 300_000 },
    async () => {
      const kReals = benchReals(REALS, 148);
      const oReals = benchReals(REALS, 149);
      const kServers = await startServers(kReals, 'tcp');
      const oServers = await startServers(oReals, 'tcp');
      try {
        const common = { check: 'connect', interval: INTERVAL, timeout: TIMEOUT, steadyS: 10, barrier: windowBarrier(2) };
        // Both sides end (and stop their processes) before the servers close, even when one fails.
        const settled = await Promise.allSettled([
          measureSide('keepalived', { ...common, reals: kReals, servers: kServers, proofKills: 5 }),
          measureSide('ours', { ...common, reals: oReals, servers: oServers }),
        ]);
        const [k, o] = settled.map((r): Side => {
          if (r.status === 'rejected') throw r.reason;
          return r.value as Side;
        });
        if (k === undefined || o === undefined) throw new Error('a side gave no result');
        const ratio = (o.cpuUsPerCheck + o.childUsPerCheck) / k.cpuUsPerCheck;
        const report = JSON.stringify({ ratio, keepalived: k, ours: o });
        // one line in the CI log: the ratio's trend is what the optimisation work follows
        console.log(`connect CPU per check, ours / keepalived: ${ratio.toFixed(2)} (${report})`);
        // keepalived really checks every real each interval (a broad margin: half the rate)
        expect(k.checksPerSecond, report).toBeGreaterThan((0.5 * REALS) / INTERVAL);
        expect(o.checksPerSecond, report).toBeGreaterThan((0.5 * REALS) / INTERVAL);
        expect(k.proof?.downMs.length, report).toBe(5);
        expect(k.proof?.upMs.length, report).toBe(5);
        expect(ratio, report).toBeLessThan(MAX_CPU_RATIO);
      } finally {
        await kServers.close();
        await oServers.close();
      }
    },
  );
});
