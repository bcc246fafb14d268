// The real daemon (bin/ldirectord -d, timed fake ./ipvsadm; see bench/daemon-harness.mjs)
// with 1,000 healthy reals (500 connect checks, 500 http checks; bench/scale-servers.mjs)
// and 50 hostile reals next to them (bench/hostile-servers.mjs: receive-regex bombs,
// catastrophic backtracking, TLS handshakes that stall, slowloris, endless bodies,
// resets, garbage), checkinterval=5, checktimeout=3. Over a bounded window it reports
// what the hostile ones cost the daemon and the healthy ones:
//   event-loop delay p50/p99/max (bench/loop-stats.cjs, preloaded; a note when the loop
//   was too blocked to answer), RSS at the window's start and end and the peak (VmHWM),
//   open descriptors at the window's start and end, and whether every healthy real was
//   checked on time (no gap between two checks over checkinterval + 0.5 s; gap p99).
// Addresses: 127.0.133.0/24 only (ports give the variety).
// Usage: node bench/hostile.mjs [--duration 60] [--bomb-kib 512] [--catastrophic 26]
//        [--startup-timeout 90]
import { fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { generateConfig, procStat, sleep, startDaemon, startServers } from './daemon-harness.mjs';

const INTERVAL = 5;
const TIMEOUT = 3;
const SLACK_MS = 500;
const HEALTHY_PER_KIND = 500;
/** Hostile kinds, how many reals of each, and how their virtual checks them. */
const HOSTILE = [
  { kind: 'regex-bomb', count: 7, check: ['service=http', 'request="/"', 'receive="status.*up"'] },
  { kind: 'catastrophic', count: 7, check: ['service=http', 'request="/"', 'receive="(a+)+$"'] },
  { kind: 'tls-stall', count: 7, check: ['service=https', 'request="/"', 'receive="OK"'] },
  { kind: 'slowloris', count: 7, check: ['service=http', 'request="/"', 'receive="OK"'] },
  { kind: 'endless', count: 8, check: ['service=http', 'request="/"', 'receive="OK"'] },
  { kind: 'rst', count: 7, check: ['service=http', 'request="/"', 'receive="OK"'] },
  { kind: 'garbage', count: 7, check: ['service=http', 'request="/"', 'receive="OK"'] },
];

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/** `count` reals on 127.0.133.<first…>, 250 ports from `port` on each address. */
function addresses(count, first, port) {
  return Array.from({ length: count }, (_, i) => ({ ip: `127.0.133.${first + Math.floor(i / 250)}`, port: port + (i % 250) }));
}

function hostileConfig(reals) {
  const out = [];
  HOSTILE.forEach(({ kind, check }, k) => {
    out.push(`virtual=10.200.${k}.1:80`);
    for (const r of reals.filter((x) => x.kind === kind)) out.push(`    real=${r.ip}:${r.port} masq 1`);
    out.push('    checktype=negotiate', ...check.map((c) => `    ${c}`), '    scheduler=wlc', '');
  });
  return out.join('\n');
}

async function startHostile(reals, o) {
  const child = fork(fileURLToPath(new URL('./hostile-servers.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`hostile servers exited (${code})`)));
    child.send({ cmd: 'start', reals, ...o });
  });
  return {
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
        child.kill();
      }),
  };
}

const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;
const mb = (x) => Math.round(x);

export async function hostileRun({ durationS = 60, bombKiB = 512, catastrophicLength = 26, startupTimeoutS = 90, log = () => {} } = {}) {
  const connectReals = addresses(HEALTHY_PER_KIND, 1, 20000);
  const httpReals = addresses(HEALTHY_PER_KIND, 3, 20000);
  let port = 30000;
  const hostile = HOSTILE.flatMap(({ kind, count }) => Array.from({ length: count }, () => ({ ip: '127.0.133.200', port: port++, kind })));
  const connectServers = await startServers(connectReals, 'tcp');
  const httpServers = await startServers(httpReals, 'http');
  const hostileServers = await startHostile(hostile, { bombKiB, catastrophicLength });
  const config = [
    generateConfig(connectReals, { check: 'connect', interval: INTERVAL, timeout: TIMEOUT }),
    generateConfig(httpReals, { check: 'http', interval: INTERVAL, timeout: TIMEOUT, firstVirtual: 100, globals: false }),
    hostileConfig(hostile),
  ].join('\n');
  const daemon = startDaemon(config);
  const healthy = connectReals.length + httpReals.length;
  try {
    // Start-up: bounded; a daemon the hostile reals keep from bringing every healthy
    // real up is measured all the same, and the report says how many were up.
    const t0 = Date.now();
    const until = t0 + startupTimeoutS * 1000;
    while (Date.now() < until && daemon.upCount() < healthy) {
      if (daemon.exited) throw new Error(`daemon exited; see ${daemon.dir}/daemon.log`);
      await sleep(500);
    }
    const upAtStart = daemon.upCount();
    const startupMs = Date.now() - t0;
    log(`  ${upAtStart} of ${healthy} healthy reals up after ${startupMs} ms`);
    await sleep(2 * INTERVAL * 1000);

    const load = loadavg()[0];
    await daemon.loopStats();
    const s0 = procStat(daemon.pid);
    const fds0 = fds(daemon.pid);
    const from = Date.now();
    await sleep(durationS * 1000);
    const to = Date.now();
    const loop = await daemon.loopStats();
    const s1 = procStat(daemon.pid);
    const fds1 = fds(daemon.pid);
    const window = { from, to, intervalMs: INTERVAL * 1000, slackMs: SLACK_MS };
    const seen = { connect: await connectServers.checks(window), http: await httpServers.checks(window) };
    const onTime = seen.connect.onTime + seen.http.onTime;
    const result = {
      healthy,
      hostile: hostile.length,
      upAtStart,
      startupMs,
      upAtEnd: daemon.upCount(),
      durationS: (to - from) / 1000,
      loopDelayMs: loop ? { p50: loop.p50, p99: loop.p99, max: loop.max } : 'no answer to SIGUSR2 within 5 s: the loop was blocked',
      rssMB: { start: mb(s0.rssMB), peak: mb(s1.peakRssMB), end: mb(s1.rssMB) },
      fds: { start: fds0, end: fds1 },
      cpu: Number(((s1.cpu - s0.cpu) / ((to - from) / 1000)).toFixed(3)),
      checkedOnTime: { all: onTime === healthy, onTime, of: healthy },
      gapP99Ms: { connect: seen.connect.gapP99, http: seen.http.gapP99 },
      gapMaxMs: { connect: seen.connect.gapMax, http: seen.http.gapMax },
      load,
    };
    log(`  ${JSON.stringify(result)}`);
    return result;
  } finally {
    await daemon.stop();
    await Promise.all([connectServers.close(), httpServers.close(), hostileServers.close()]);
    if (!process.env.BENCH_KEEP) daemon.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = {
    durationS: Number(arg('duration', 60)),
    bombKiB: Number(arg('bomb-kib', 512)),
    catastrophicLength: Number(arg('catastrophic', 26)),
    startupTimeoutS: Number(arg('startup-timeout', 90)),
  };
  console.error(
    `hostile: 1,000 healthy + 50 hostile reals, ${o.durationS} s, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const result = await hostileRun({ ...o, log: (m) => console.error(m) });
  console.log(
    JSON.stringify(
      { node: process.version, at: new Date().toISOString(), nice: process.env.BENCH_NICE ?? '0', options: o, result },
      null,
      1,
    ),
  );
}
