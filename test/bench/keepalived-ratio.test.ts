// Connect checks beside keepalived (bench/keepalived.mjs, scaled down): 2,000 reals on
// 127.0.148.x, interval 2 s, timeout 1 s, keepalived checker-only through the IPVS shim, then
// our daemon on the same listeners, in one run. Only the ratio of CPU per check (ours with
// the ipvsadm runs it waited for / keepalived's parent + checker) is compared: a busy CI
// machine slows both sides alike. keepalived first proves the shim leaves it checking: killed
// listeners go to weight 0 and come back when they listen again.
import { describe, expect, it } from 'vitest';
import { benchReals, measureSide } from '../../bench/keepalived.mjs';
import { keepalivedMissing } from '../../bench/keepalived-harness.mjs';
import { startServers } from '../../bench/daemon-harness.mjs';

interface Side {
  checksPerSecond: number;
  cpuUsPerCheck: number;
  childUsPerCheck: number;
  proof?: { kills: number; downMs: number[]; upMs: number[] };
}

/**
 * Ours / keepalived, CPU per connect check with the table reads counted in: 1.87 on the 2-core
 * development machine at load 4-5, most of the excess the timed fake ipvsadm's drift reads
 * (4.00-4.47 at load 15-20 before the bare connect path; bench/RESULTS.md). Failing above 3
 * leaves room for a loaded CI machine and still catches the old per-check cost coming back.
 */
const MAX_CPU_RATIO = 3;
const REALS = 2_000;
const INTERVAL = 2;
const TIMEOUT = 1;

const missing = keepalivedMissing();

describe('connect CPU per check beside keepalived (bench/keepalived.mjs)', () => {
  it.skipIf(missing !== undefined)(
    `stays within ${MAX_CPU_RATIO}x keepalived's${missing ? ` (skipped: ${missing})` : ''}`,
    { timeout: 300_000 },
    async () => {
      const reals = benchReals(REALS, 148);
      const servers = await startServers(reals, 'tcp');
      try {
        const common = { reals, servers, check: 'connect', interval: INTERVAL, timeout: TIMEOUT, steadyS: 10 };
        const k = (await measureSide('keepalived', { ...common, proofKills: 5 })) as Side;
        const o = (await measureSide('ours', common)) as Side;
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
        await servers.close();
      }
    },
  );
});
