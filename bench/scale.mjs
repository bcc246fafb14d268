// At scale: the real daemon (bin/ldirectord -d, timed fake ./ipvsadm) with
// N reals (default 1,000 virtuals x 10 reals) served by another process on 127.1.x.y.
//   steady: are all reals checked within each checkinterval (seen by the servers), the
//           daemon's CPU-seconds per second (/proc/<pid>/stat; ipvsadm children apart),
//           peak and final RSS, event-loop delay (bench/loop-stats.cjs, preloaded)
//   kills:  1% of the servers killed at random moments; detection latency = start of
//           the ipvsadm run that takes the real out - the moment it was killed
// Usage: node bench/scale.mjs [--check connect|http] [--reals 10000] [--runs 3]
//        [--steady 30] [--kill-window 20] [--how refuse|hang] [--second 1 (reals on 127.<second>.x.y)]
import { loadavg } from 'node:os';
import {
  arg,
  changeTime,
  generateConfig,
  realAddresses,
  runsAnnounced,
  sleep,
  startDaemon,
  startServers,
  steadyWindow,
  stopAll,
  summary,
  waitAllUp,
} from './daemon-harness.mjs';

export async function scaleRun({
  reals: count = 10_000,
  check = 'connect',
  interval = 5,
  timeout = 3,
  perVirtual = 10,
  warmS = 2 * interval,
  steadyS = 30,
  killFraction = 0.01,
  killWindowS = 20,
  how = 'refuse',
  range = { second: 1, third: 0 },
  slackMs = 500,
  log = () => {},
} = {}) {
  const reals = realAddresses(count, range);
  const servers = await startServers(reals, check === 'connect' ? 'tcp' : 'http');
  const daemon = startDaemon(generateConfig(reals, { perVirtual, check, interval, timeout }));
  try {
    const t0 = Date.now();
    await waitAllUp(daemon, count, 120_000, 500);
    const startupMs = Date.now() - t0;
    log(`  all ${count} up after ${startupMs} ms`);
    await sleep(warmS * 1000);

    // steady state
    const load = loadavg()[0];
    const { s0, s1, wall, loop, seen } = await steadyWindow(daemon, servers, { steadyS, interval, slackMs });
    const steady = {
      cpu: (s1.cpu - s0.cpu) / wall,
      cpuUser: (s1.user - s0.user) / wall,
      cpuSystem: (s1.system - s0.system) / wall,
      ipvsadmCpu: (s1.childCpu - s0.childCpu) / wall,
      peakRssMB: s1.peakRssMB,
      rssMB: s1.rssMB,
      loop,
      onTime: seen.fraction,
      gapP99: seen.gapP99,
      gapMax: seen.gapMax,
      checksPerSecond: seen.checks / wall,
      load,
    };
    log(`  steady: ${JSON.stringify(steady)}`);

    // kills at random moments
    const k = Math.max(1, Math.round(count * killFraction));
    const victims = new Set();
    while (victims.size < k) victims.add(Math.floor(Math.random() * count));
    const killed = [];
    await Promise.all(
      [...victims].map(async (i) => {
        await sleep(Math.random() * killWindowS * 1000);
        const { t } = await servers.kill(i, how);
        killed.push({ i, t });
      }),
    );
    const bound = (timeout + interval + 0.5) * 1000;
    await sleep(bound + 2000);
    const calls = daemon.ipvsadmCalls();
    const latencies = killed.map(({ i, t }) => {
      const c = changeTime(calls, reals[i], t);
      return c === undefined ? undefined : c - t;
    });
    const detection = { ...summary(latencies), missed: latencies.filter((x) => x === undefined).length, boundMs: bound };
    log(`  detection: ${JSON.stringify(detection)}`);
    return { count, check, startupMs, steady, detection };
  } finally {
    await stopAll(daemon, servers);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = {
    check: arg('check', 'connect'),
    reals: Number(arg('reals', 10_000)),
    steadyS: Number(arg('steady', 30)),
    killWindowS: Number(arg('kill-window', 20)),
    how: arg('how', 'refuse'),
    range: { second: Number(arg('second', 1)), third: 0 },
  };
  const runs = Number(arg('runs', 3));
  const results = await runsAnnounced(runs, `${o.reals} reals, ${o.check}`, (log) => scaleRun({ ...o, log }));
  const med = (f) => {
    const xs = results
      .map(f)
      .filter((x) => x !== undefined)
      .sort((a, b) => a - b);
    return { median: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs[xs.length - 1] };
  };
  const summaryRow = {
    cpu: med((r) => r.steady.cpu),
    ipvsadmCpu: med((r) => r.steady.ipvsadmCpu),
    onTime: med((r) => r.steady.onTime),
    gapP99: med((r) => r.steady.gapP99),
    peakRssMB: med((r) => r.steady.peakRssMB),
    rssMB: med((r) => r.steady.rssMB),
    loopP99: med((r) => r.steady.loop?.p99),
    loopMax: med((r) => r.steady.loop?.max),
    checksPerSecond: med((r) => r.steady.checksPerSecond),
    detectionP50: med((r) => r.detection.median),
    detectionP99: med((r) => r.detection.p99),
    missed: med((r) => r.detection.missed),
    load: med((r) => r.steady.load),
    startupMs: med((r) => r.startupMs),
  };
  console.log(
    JSON.stringify(
      {
        node: process.version,
        at: new Date().toISOString(),
        nice: process.env.BENCH_NICE ?? '0',
        options: o,
        summary: summaryRow,
        results,
      },
      null,
      1,
    ),
  );
}
