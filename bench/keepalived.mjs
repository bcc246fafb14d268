// ldirectord-ts beside keepalived (the checker-only peer, bench/keepalived-harness.mjs) on the
// same reals, same checkinterval / delay_loop and timeout: checks per second seen by the
// servers, CPU per check (keepalived: parent + checker; ours: the daemon, and apart the
// ipvsadm children it waited for), RSS now and peak. Runs alternate between the two (the
// order flips every run), the table gives the median of each figure over the runs.
// --together: in each run the sides run at the same time instead, each on reals of its own
// (127.0.<third + k>.x, servers of its own), their windows aligned. This machine's speed
// drifts within minutes, the same for every process on it: side by side in time,
// the ratios of a run keep only what differs between the sides, and the table adds the
// median of the per-run ratios.
// After its measured window, keepalived's first run per checktype proves the shim keeps it
// honest: killed listeners are taken out (weight 0) and put back when they listen again
// (the run fails otherwise).
// Usage: node bench/keepalived.mjs [--check connect|http|both] [--reals N] [--runs 3]
//        [--steady 30] [--warm S] [--only keepalived|ours] [--no-proof] [--third 147] [--json] [--floor] [--together]
// --warm: seconds from start-up to the measured window, the same for every side (default 2 intervals).
// --steady: the measured window. Our daemon lists the whole table about once a minute (one
// checkinterval past the minute); a window shorter than that holds one read or none, so
// for its share per check give it whole periods (e.g. 130 s at checkinterval=5).
// --floor: Node's floor (bench/node-floor.mjs, the checks' socket work alone) runs beside
// them, between the two in every run, with its row and ratios in the table.
// Reals on 127.0.<third>.1-250 (147 unless --third: two benches at once need two), ports 8080 up (250 per port). BENCH_NICE as in daemon-harness;
// BENCH_DAEMON_NODE_ARGS (e.g. --cpu-prof) reaches our daemon only.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg, release, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { generateConfig, procStat, sleep, startDaemon, startServers, waitFor } from './daemon-harness.mjs';
import { keepalivedConfig, keepalivedDownTime, keepalivedMissing, keepalivedUpTime, startKeepalived } from './keepalived-harness.mjs';

/**
 * Only our daemon carries an instrument of the bench's (bench/loop-stats.cjs, the loop-delay
 * histogram): keepalived and the floor carry none. Sampled every 10 ms it cost ours CPU per
 * check that the product does not spend, so here it samples once a second unless
 * BENCH_LOOP_RESOLUTION_MS says otherwise. A stall still shows in full in the sample it
 * falls in; the p99 is then one of few samples.
 */
const LOOP_RESOLUTION_MS = Number(process.env.BENCH_LOOP_RESOLUTION_MS ?? 1000);

/** Real i at 127.0.<third>.<1 + i%250>, port 8080 + i/250. */
export function benchReals(count, third = 147) {
  return Array.from({ length: count }, (_, i) => ({ ip: `127.0.${third}.${1 + (i % 250)}`, port: 8080 + Math.floor(i / 250) }));
}

/** bench/node-floor.mjs on the same reals (see there); the servers count its probes. */
async function startFloor(reals, o) {
  const child = fork(fileURLToPath(new URL('./node-floor.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send({ check: o.check, reals, interval: o.interval });
  if (process.env.BENCH_NICE) setPriority(child.pid, Number(process.env.BENCH_NICE));
  const ready = await Promise.race([once(child, 'message').then(() => true), once(child, 'exit').then(() => false)]);
  if (!ready) throw new Error('bench/node-floor.mjs exited before it was ready (its error is above)');
  const handle = {
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    downCount: () => 0,
    stop: async () => {
      if (handle.exited) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
    cleanup: () => {},
  };
  return { handle, stat: () => procStat(child.pid) };
}

async function startSide(side, reals, o) {
  if (side === 'floor') return startFloor(reals, o);
  if (side === 'keepalived') {
    const k = await startKeepalived(keepalivedConfig(reals, o));
    return { handle: k, stat: () => k.stat() };
  }
  const d = startDaemon(generateConfig(reals, o), 'ours', { loopResolutionMs: LOOP_RESOLUTION_MS });
  try {
    await waitFor(
      'all reals up in the table',
      () => {
        if (d.exited) throw new Error(`daemon exited; see ${d.dir}/daemon.log`);
        return d.upCount() >= reals.length;
      },
      180_000,
      500,
    );
  } catch (e) {
    await d.stop();
    if (!process.env.BENCH_KEEP) d.cleanup();
    throw e;
  }
  return { handle: d, stat: () => procStat(d.pid) };
}

/**
 * Kills `kills` listeners spread over the reals, waits until keepalived has taken each
 * out, revives them, waits until each is back. Throws when one is missed within
 * interval + timeout + 5 s.
 */
async function proveKeepalived(k, servers, reals, { interval, timeout, kills }) {
  const bound = (interval + timeout + 5) * 1000;
  const victims = Array.from({ length: kills }, (_, j) => Math.floor(((j + 0.5) * reals.length) / kills));
  const killedAt = new Map();
  for (const i of victims) killedAt.set(i, (await servers.kill(i)).t);
  const downs = new Map();
  await waitFor(
    'keepalived to take the killed reals out',
    () => {
      const changes = k.changes();
      for (const i of victims)
        if (!downs.has(i)) {
          const t = keepalivedDownTime(changes, reals[i], killedAt.get(i));
          if (t) downs.set(i, t);
        }
      return downs.size === victims.length;
    },
    bound,
    250,
  ).catch(() => {
    throw new Error(`keepalived took ${downs.size} of ${victims.length} killed reals out within ${bound} ms`);
  });
  const revivedAt = new Map();
  for (const i of victims) revivedAt.set(i, (await servers.revive(i)).t);
  const ups = new Map();
  await waitFor(
    'keepalived to put the revived reals back',
    () => {
      const changes = k.changes();
      for (const i of victims)
        if (!ups.has(i)) {
          const t = keepalivedUpTime(changes, reals[i], revivedAt.get(i));
          if (t) ups.set(i, t);
        }
      return ups.size === victims.length;
    },
    bound,
    250,
  ).catch(() => {
    throw new Error(`keepalived put ${ups.size} of ${victims.length} revived reals back within ${bound} ms`);
  });
  const ms = (m, from) => victims.map((i) => m.get(i) - from.get(i));
  return { kills, downMs: ms(downs, killedAt), upMs: ms(ups, revivedAt) };
}

/**
 * Sides that measure together: each arrives when warmed up, and all start their window
 * when the last has arrived. A side that fails before it arrives withdraws.
 */
export function windowBarrier(count) {
  let waiting = count;
  let open;
  const opened = new Promise((resolve) => (open = resolve));
  const step = () => {
    if (--waiting === 0) open();
  };
  return {
    arrive: () => {
      step();
      return opened;
    },
    withdraw: step,
  };
}

/**
 * One side, one run: start, warm up, measure `steadyS`, optionally prove, stop. `barrier`
 * (windowBarrier): the window starts when every side of the barrier is warmed up.
 */
export async function measureSide(
  side,
  { reals, servers, check, interval, timeout, perVirtual = 10, warmS = 2 * interval, steadyS = 30, proofKills = 0, barrier },
) {
  const o = { perVirtual, check, interval, timeout };
  let arrived = false;
  const started = await startSide(side, reals, o).catch((err) => {
    barrier?.withdraw();
    throw err;
  });
  const { handle, stat } = started;
  try {
    await sleep(warmS * 1000);
    arrived = true;
    await barrier?.arrive();
    const load = loadavg()[0];
    await handle.loopStats?.();
    const s0 = stat();
    const from = Date.now();
    await sleep(steadyS * 1000);
    const to = Date.now();
    const s1 = stat();
    const loop = await handle.loopStats?.();
    if (handle.exited) throw new Error(`${side} exited during the run; see ${handle.dir}`);
    const seen = await servers.checks({ from, to, intervalMs: interval * 1000, slackMs: 500 });
    const result = {
      side,
      check,
      reals: reals.length,
      load,
      checksPerSecond: seen.checks / ((to - from) / 1000),
      cpuUsPerCheck: ((s1.cpu - s0.cpu) / seen.checks) * 1e6,
      childUsPerCheck: ((s1.childCpu - s0.childCpu) / seen.checks) * 1e6,
      rssMB: s1.rssMB,
      peakRssMB: s1.peakRssMB,
      onTime: seen.fraction,
      gapP99: seen.gapP99,
      gapMax: seen.gapMax,
      ...(loop ? { loopP99: loop.p99, loopMax: loop.max } : {}),
      // reals taken out at the end of the window: 0 unless checks failed (late or lost)
      downAtEnd: side === 'ours' ? handle.zeroCount() : handle.downCount(),
    };
    if (proofKills > 0 && side === 'keepalived')
      result.proof = await proveKeepalived(handle, servers, reals, { interval, timeout, kills: proofKills });
    return result;
  } finally {
    if (!arrived) barrier?.withdraw();
    await handle.stop();
    if (!process.env.BENCH_KEEP) handle.cleanup();
  }
}

/**
 * `runs` alternating runs of both sides (or `only` one) on `count` reals; keepalived's
 * first run also proves the shim (`proofKills` reals killed and revived). `together`: the
 * sides of a run at the same time, each on reals and servers of its own.
 */
export async function compare({
  check = 'connect',
  count = 10_000,
  runs = 3,
  interval = 5,
  timeout = 3,
  steadyS = 30,
  warmS = undefined,
  only,
  floor = false,
  together = false,
  proofKills = 10,
  third = 147,
  log = () => {},
} = {}) {
  const sides = ['keepalived', 'ours', ...(floor ? ['floor'] : [])].filter((side) => !only || side === only);
  const kind = check === 'connect' ? 'tcp' : 'http';
  const realsOf = {};
  const serversOf = {};
  const results = { keepalived: [], ours: [], floor: [] };
  try {
    if (together) {
      for (const [k, side] of sides.entries()) {
        realsOf[side] = benchReals(count, third + k);
        serversOf[side] = await startServers(realsOf[side], kind);
      }
    } else {
      const reals = benchReals(count, third);
      const servers = await startServers(reals, kind);
      for (const side of sides) {
        realsOf[side] = reals;
        serversOf[side] = servers;
      }
    }
    const runSide = async (side, run, barrier) => {
      const proof = side === 'keepalived' && run === 0 ? proofKills : 0;
      log(
        `run ${run + 1}/${runs} ${side}: ${count} reals, ${check}, load ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
      );
      // A run that fails (ours not all up within its bound at a high load, say) is
      // recorded as failed and the others go on: the table says how many failed.
      const load = loadavg()[0];
      const res = await measureSide(side, {
        reals: realsOf[side],
        servers: serversOf[side],
        check,
        interval,
        timeout,
        steadyS,
        ...(warmS === undefined ? {} : { warmS }),
        proofKills: proof,
        barrier,
      }).catch((err) => ({
        side,
        check,
        reals: count,
        load,
        failed: err instanceof Error ? err.message : String(err),
      }));
      res.run = run;
      log(`  ${JSON.stringify(res)}`);
      results[side].push(res);
    };
    for (let r = 0; r < runs; r++) {
      if (together) {
        const barrier = windowBarrier(sides.length);
        await Promise.all(sides.map((side) => runSide(side, r, barrier)));
        continue;
      }
      const order = r % 2 === 0 ? ['keepalived', 'ours'] : ['ours', 'keepalived'];
      // Node's floor between the two, so that each side has it beside it as often.
      if (floor) order.splice(1, 0, 'floor');
      for (const side of order) if (sides.includes(side)) await runSide(side, r);
    }
  } finally {
    for (const servers of new Set(Object.values(serversOf))) await servers.close();
  }
  return results;
}

/**
 * The ratio `a / b` of CPU per check in each run where both sides measured, and their
 * median: with the sides together, the figure the machine's drift does not move.
 */
export function perRunRatios(a, b) {
  const ratios = [];
  for (const x of a) {
    const y = b.find((r) => r.run === x.run);
    if (x.failed || !y || y.failed) continue;
    ratios.push(x.cpuUsPerCheck / y.cpuUsPerCheck);
  }
  return ratios.length === 0 ? undefined : { ratios, median: median(ratios) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Median of each figure over the runs of one side. */
export function medians(all) {
  const runs = all.filter((r) => !r.failed);
  if (runs.length === 0) return undefined;
  const keys = ['checksPerSecond', 'cpuUsPerCheck', 'childUsPerCheck', 'rssMB', 'peakRssMB', 'onTime', 'load'];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))]));
}

function rows(check, count, results) {
  const k = medians(results.keepalived);
  const o = medians(results.ours);
  const n = (x, d = 0) => (x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const loads = (rs) => rs.map((r) => `${r.load.toFixed(1)}${r.failed ? ' (failed)' : ''}`).join('/');
  const label = `${check}, ${count.toLocaleString('en-US')} reals`;
  const line = (name, m, rs) =>
    `| ${label}: ${name} | ${n(m?.checksPerSecond)} | ${n(m?.cpuUsPerCheck)} | ${n(m?.childUsPerCheck)} | ${n(m && m.cpuUsPerCheck + m.childUsPerCheck)} | ${n(m?.rssMB)} (${n(m?.peakRssMB)}) | ${n(m && m.onTime * 100, 1)} % | ${loads(rs)} |`;
  const out = [line('keepalived', k, results.keepalived), line('ldirectord-ts', o, results.ours)];
  const f = medians(results.floor);
  if (f) out.push(line('Node floor (bench/node-floor.mjs)', f, results.floor));
  const x = (a, b) => `${(a / b).toFixed(2)}×`;
  const ratio = (name, a, b) =>
    `| ${label}: ${name} | ${x(a.checksPerSecond, b.checksPerSecond)} | ${x(a.cpuUsPerCheck, b.cpuUsPerCheck)} | | ${x(a.cpuUsPerCheck + a.childUsPerCheck, b.cpuUsPerCheck + b.childUsPerCheck)} | ${x(a.rssMB, b.rssMB)} (${x(a.peakRssMB, b.peakRssMB)}) | | |`;
  if (k && o) out.push(ratio('ours / keepalived', o, k));
  if (k && f) out.push(ratio('Node floor / keepalived', f, k));
  if (o && f) out.push(ratio('ours / Node floor', o, f));
  return out;
}

/** Per-run CPU ratios (sides together), one line per pair of sides. */
function perRunLines(check, count, results) {
  const pairs = [
    ['ours / keepalived', results.ours, results.keepalived],
    ['Node floor / keepalived', results.floor, results.keepalived],
    ['ours / Node floor', results.ours, results.floor],
  ];
  const x = (v) => `${v.toFixed(2)}×`;
  return pairs.flatMap(([name, a, b]) => {
    const r = perRunRatios(a, b);
    return r
      ? [
          `${check}, ${count.toLocaleString('en-US')} reals, CPU per check, ${name}, per run: ${r.ratios.map(x).join(' / ')} (median ${x(r.median)})`,
        ]
      : [];
  });
}

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const missing = keepalivedMissing();
  if (missing && arg('only') !== 'ours') {
    console.error(`bench/keepalived.mjs: skipped: ${missing}`);
    process.exit(0);
  }
  const which = arg('check', 'both');
  const plan =
    which === 'both'
      ? [
          ['connect', 10_000],
          ['http', 1_000],
        ]
      : [[which, which === 'connect' ? 10_000 : 1_000]];
  const runs = Number(arg('runs', 3));
  const steadyS = Number(arg('steady', 30));
  const table = [];
  const perRun = [];
  const all = {};
  for (const [check, dflt] of plan) {
    const count = Number(arg('reals', dflt));
    const results = await compare({
      check,
      count,
      runs,
      steadyS,
      ...(arg('warm') === undefined ? {} : { warmS: Number(arg('warm')) }),
      only: arg('only'),
      floor: process.argv.includes('--floor') || arg('only') === 'floor',
      together: process.argv.includes('--together'),
      third: Number(arg('third', 147)),
      proofKills: process.argv.includes('--no-proof') ? 0 : 10,
      log: (m) => console.error(m),
    });
    all[check] = results;
    table.push(...rows(check, count, results));
    if (process.argv.includes('--together')) perRun.push(...perRunLines(check, count, results));
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(all, null, 1));
  const proofs = Object.values(all).flatMap((r) => r.keepalived.filter((x) => x.proof).map((x) => ({ check: x.check, ...x.proof })));
  const failures = Object.values(all).flatMap((r) => [...r.keepalived, ...r.ours, ...r.floor].filter((x) => x.failed));
  // The ratios differ from one machine to another: the header names the machine.
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, kernel ${release()}, ${new Date().toISOString()}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )}, interval 5 s, timeout 3 s, median of ${runs}${process.argv.includes('--together') ? ', the sides of each run together' : ''}\n`,
  );
  console.log('| | checks/s | CPU µs per check | + children (ipvsadm) µs | total µs | RSS MB (peak) | reals on time | load per run |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const l of table) console.log(l);
  if (perRun.length > 0) console.log(`\n${perRun.join('\n')}`);
  for (const f of failures) console.log(`\n${f.check}, ${f.side}: a run failed at load ${f.load.toFixed(1)}: ${f.failed}`);
  for (const p of proofs)
    console.log(
      `\n${p.check}, keepalived through the shim: ${p.kills} killed listeners taken out after ${Math.min(...p.downMs)}–${Math.max(...p.downMs)} ms, put back after ${Math.min(...p.upMs)}–${Math.max(...p.upMs)} ms`,
    );
}
