// The scaled-down bench that CI runs (test/bench/scale-ratio.test.ts): ratios of figures
// measured in the same run, so that a slow or busy machine moves both sides alike.
//   statusVsNode      `ldirectord <cfg> status` wall time / `node -e 0` wall time
//   statusVsOriginal  the same / the original's status (when /usr/sbin/ldirectord exists)
//   checkCpuVsBare    the daemon's CPU-seconds per connect check / a bare connect loop's
//   detectionVsBound  p99 of death-to-ipvsadm-change / (checktimeout + checkinterval)
//   reloadVsRead      CPU of a reload of a 2,000-real config with one weight changed (median of
//                     21) / CPU of one ipvsadm run listing that table (bench/reload-host.mjs)
// Reals on 127.0.70.1 - 127.0.71.250 (the CI's range).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchStatus } from './status.mjs';
import { benchReload } from './reload-host.mjs';
import {
  changeTime,
  generateConfig,
  procStat,
  realAddresses,
  sleep,
  startDaemon,
  startServers,
  summary,
  waitFor,
} from './daemon-harness.mjs';

const REFERENCE = fileURLToPath(new URL('./connect-reference.mjs', import.meta.url));

export async function ciRatios({ reals: count = 500, interval = 2, timeout = 1, windowS = 10, kills = 5, statusRounds = 7 } = {}) {
  const status = benchStatus(statusRounds);
  const reload = await benchReload({ virtuals: 200, perVirtual: 10, reloads: 21 });
  const reals = realAddresses(count, { second: 0, third: 70 });
  const servers = await startServers(reals, 'tcp');
  const daemon = startDaemon(generateConfig(reals, { perVirtual: 10, check: 'connect', interval, timeout }));
  try {
    await waitFor(
      'all reals up',
      () => {
        if (daemon.exited) throw new Error(`daemon exited; see ${daemon.dir}/daemon.log`);
        return daemon.upCount() >= count;
      },
      60_000,
      200,
    );
    await sleep(2 * interval * 1000);
    const s0 = procStat(daemon.pid);
    const from = Date.now();
    await sleep(windowS * 1000);
    const to = Date.now();
    const s1 = procStat(daemon.pid);
    const seen = await servers.checks({ from, to, intervalMs: interval * 1000, slackMs: 500 });
    const cpuPerCheck = (s1.cpu - s0.cpu) / seen.checks;
    const ref = JSON.parse(
      execFileSync(process.execPath, [REFERENCE, String(seen.checks), ...reals.map((r) => `${r.ip}:${r.port}`)], { encoding: 'utf8' }),
    );

    const killed = [];
    await Promise.all(
      Array.from({ length: kills }, async (_, k) => {
        await sleep(Math.random() * 2000);
        const i = k * Math.floor(count / kills);
        killed.push({ i, t: (await servers.kill(i)).t });
      }),
    );
    await sleep((interval + timeout) * 1000 + 3000);
    const calls = daemon.ipvsadmCalls();
    const lat = killed.map(({ i, t }) => {
      const c = changeTime(calls, reals[i], t);
      return c === undefined ? Infinity : c - t;
    });
    return {
      statusVsNode: status.ours.median / status.node.median,
      ...(status.original ? { statusVsOriginal: status.ours.median / status.original.median } : {}),
      checkCpuVsBare: cpuPerCheck / ref.cpuPerConnect,
      detectionVsBound: summary(lat).p99 / ((interval + timeout) * 1000),
      reloadVsRead: reload.tableWorkCpuMs.median / reload.bareListingReadCpuMs.median,
      onTime: seen.fraction,
      reload: { ipvsadmRuns: reload.ipvsadmRuns, commandsSent: reload.commandsSent },
      raw: { status, cpuPerCheck, ref, detection: summary(lat), checks: seen.checks, reload },
    };
  } finally {
    await daemon.stop();
    await servers.close();
    daemon.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const r = await ciRatios();
  console.log(JSON.stringify({ ...r, seconds: (Date.now() - t0) / 1000 }, null, 1));
}
