// Memory of the real daemon through its whole life at N reals (default 1,000 virtuals × 10
// connect reals, checkinterval 5 s, checktimeout 3 s), phase by phase: the peak (VmHWM) at
// the end of start-up (all reals up), the RSS and the peak over a steady window, the peak
// after reloads of the same N-real config with one weight changed (SIGHUP), and the peak over
// the whole life at exit, the stop (every virtual removed) included. The exit figure comes
// from inside (bench/loop-stats.cjs, preloaded, writes VmHWM on 'exit'): once the process
// is gone /proc no longer has it. Also the CPU per check over the steady window (daemon
// CPU-seconds / checks the servers saw), heap used and external memory from inside, and
// the floor: the same daemon on a one-real config.
// (test/bench/rss-ratio.test.ts runs a scaled-down one in CI.)
// Usage: node bench/rss.mjs [--reals 10000] [--runs 1] [--steady 20] [--reloads 3]
//        [--interval 5] [--timeout 3] [--second 1 (reals on 127.<second>.x.y, port 8080)]
//        [--third T (reals on 127.0.T.1-250, ports 8080 up)] [--no-floor]
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  arg,
  generateConfig,
  procStat,
  realAddresses,
  runsAnnounced,
  sleep,
  startDaemon,
  startServers,
  steadyWindow,
  stopAll,
  waitAllUp,
  waitFor,
} from './daemon-harness.mjs';

const round = (x) => (x === undefined ? undefined : Math.round(x * 10) / 10);

/** Samples VmRSS every `everyMs` until stopped: the highest, for phases /proc's VmHWM cannot split. */
function sampler(pid, everyMs = 100) {
  let max = 0;
  const t = setInterval(() => {
    try {
      max = Math.max(max, procStat(pid).rssMB);
    } catch {
      /* gone */
    }
  }, everyMs);
  return {
    take() {
      const m = max;
      max = 0;
      return m;
    },
    stop: () => clearInterval(t),
  };
}

export async function rssRun({
  reals: count = 10_000,
  addresses,
  interval = 5,
  timeout = 3,
  perVirtual = 10,
  warmS = 2 * interval,
  steadyS = 20,
  reloads = 3,
  range = { second: 1, third: 0 },
  log = () => {},
} = {}) {
  const reals = addresses ?? realAddresses(count, range);
  const servers = await startServers(reals, 'tcp');
  const text = generateConfig(reals, { perVirtual, check: 'connect', interval, timeout });
  const daemon = startDaemon(text);
  const rss = sampler(daemon.pid);
  const n = reals.length;
  const out = { reals: n, load: loadavg()[0] };
  try {
    const t0 = Date.now();
    await waitAllUp(daemon, n, 180_000, 250);
    out.startupMs = Date.now() - t0;
    out.startPeakMB = procStat(daemon.pid).peakRssMB;
    rss.take();
    await sleep(warmS * 1000);
    const { s0, s1, wall, loop: inside, seen } = await steadyWindow(daemon, servers, { steadyS, interval });
    out.steady = {
      rssMB: round(s1.rssMB),
      maxRssMB: round(rss.take()),
      peakMB: round(s1.peakRssMB),
      heapUsedMB: inside?.heapUsedMB,
      externalMB: inside?.externalMB,
      cpu: round(((s1.cpu - s0.cpu) / wall) * 1000) / 1000,
      cpuUsPerCheck: Math.round(((s1.cpu - s0.cpu) * 1e6) / Math.max(1, seen.checks)),
      checksPerSecond: Math.round(seen.checks / wall),
      onTime: seen.fraction,
      loopMaxMs: inside?.max,
    };
    log(`  steady: ${JSON.stringify(out.steady)}`);

    const cfg = join(daemon.dir, 'bench.cf');
    const reloadMs = [];
    for (let k = 0; k < reloads; k++) {
      // One real's weight flips between 1 and 2: a reload of the whole N-real config.
      const changed = k % 2 === 0 ? text.replace(/( masq )1\n/, '$12\n') : text;
      writeFileSync(cfg, changed);
      const logFile = join(daemon.dir, 'daemon.log');
      const logFrom = readFileSync(logFile, 'utf8').length;
      const r0 = Date.now();
      process.kill(daemon.pid, 'SIGHUP');
      // Applied: the reload was logged and an ipvsadm run that started after it has ended
      // (a reload reads and edits the table in one run).
      await waitFor('the reload logged', () => readFileSync(logFile, 'utf8').slice(logFrom).includes('Reloading'), 60_000, 100);
      await waitFor('the reload applied', () => daemon.ipvsadmCalls().some((c) => c.t >= r0 && c.end !== undefined), 120_000, 100);
      reloadMs.push(Date.now() - r0);
      await sleep(2000);
    }
    const s2 = procStat(daemon.pid);
    out.reload = { reloads, appliedMs: reloadMs, maxRssMB: round(rss.take()), peakMB: round(s2.peakRssMB), rssMB: round(s2.rssMB) };
    log(`  reload: ${JSON.stringify(out.reload)}`);
  } finally {
    // The stop removes every virtual: on a busy machine that can take longer than the
    // harness's own stop waits before it kills, and a killed daemon reports no exit figure.
    if (!daemon.exited) {
      process.kill(daemon.pid, 'SIGTERM');
      await waitFor('the daemon stopped', () => daemon.exited, 120_000, 100).catch(() => undefined);
    }
    await daemon.stop();
    rss.stop();
    await servers.close();
  }
  try {
    const exit = JSON.parse(readFileSync(`${join(daemon.dir, 'loop.json')}.exit`, 'utf8'));
    out.lifePeakMB = round(exit.peakRssMB);
  } catch {
    out.lifePeakMB = undefined;
  }
  log(`  life peak (stop included): ${out.lifePeakMB} MB`);
  if (!process.env.BENCH_KEEP) daemon.cleanup();
  return out;
}

/** The daemon on a one-real config: what Node and our modules cost with (almost) no reals. */
export async function floorRun({ range = { second: 1, third: 0 }, addresses } = {}) {
  const reals = addresses ?? realAddresses(1, range);
  const servers = await startServers(reals, 'tcp');
  const daemon = startDaemon(generateConfig(reals.slice(0, 1), { perVirtual: 1, check: 'connect', interval: 1, timeout: 1 }));
  try {
    await waitFor('the real up', () => daemon.upCount() >= 1, 60_000, 100);
    await sleep(3000);
    const inside = await daemon.loopStats();
    const s = procStat(daemon.pid);
    return { rssMB: round(s.rssMB), peakMB: round(s.peakRssMB), heapUsedMB: inside?.heapUsedMB, externalMB: inside?.externalMB };
  } finally {
    await stopAll(daemon, servers);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const range = { second: Number(arg('second', 1)), third: 0 };
  // --third T: the reals on 127.0.T.1-250, ports 8080 up (bench/keepalived.mjs's layout)
  const third = arg('third', undefined);
  const count = Number(arg('reals', 10_000));
  const addresses =
    third === undefined
      ? undefined
      : Array.from({ length: count }, (_, i) => ({ ip: `127.0.${third}.${1 + (i % 250)}`, port: 8080 + Math.floor(i / 250) }));
  const o = {
    reals: count,
    addresses,
    interval: Number(arg('interval', 5)),
    timeout: Number(arg('timeout', 3)),
    steadyS: Number(arg('steady', 20)),
    reloads: Number(arg('reloads', 3)),
    range,
  };
  const runs = Number(arg('runs', 1));
  const floor = process.argv.includes('--no-floor') ? undefined : await floorRun({ range, addresses });
  if (floor) console.error(`floor: ${JSON.stringify(floor)}`);
  const results = await runsAnnounced(runs, `${o.reals} reals`, (log) => rssRun({ ...o, log }));
  const { addresses: _, ...shown } = o;
  console.log(JSON.stringify({ node: process.version, at: new Date().toISOString(), options: shown, floor, results }, null, 1));
}
