// Ours and the original ldirectord
// (/usr/sbin/ldirectord, Debian) side by side, in the same run, on the same config shape:
// 200 reals (20 virtuals x 10, checktype=connect, checkinterval=5, checktimeout=3), of
// which 10% do not answer SYNs (bench/hung-listeners.py: a connect hangs until its
// timeout, as with a dead host). Each daemon has its own 200 servers (ours on 127.2.x.y,
// the original on 127.3.x.y), its own directory and timed fake ./ipvsadm (-d mode), and
// starts from a table in which every real is in with weight 1 (so neither spends its
// start-up adding reals through the fake, which takes ~0.3 s per run).
//   cycle: time between two checks of the same live real, seen by its server (the
//          original: checkinterval + every check one after another; ours: checkinterval)
//   detection: live servers killed (listener closed) at random moments; time until the
//          daemon starts the ipvsadm run that takes the real out (for the original, the
//          `-e ... -w 0`, which it runs after two table reads of its own)
// Usage: node bench/compare-original.mjs [--reals 200] [--kills 10] [--steady 100]
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { runFakeIpvsadm } from '../test/support/fake-ipvsadm.mjs';
import {
  ORIGINAL,
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

const INTERVAL = 5;
const TIMEOUT = 3;

/** The fake table with every virtual and real of `reals` in, weight 1. */
function prepopulate(statePath, reals, perVirtual) {
  const lines = [];
  for (let v = 0; v * perVirtual < reals.length; v++) {
    const vip = `10.${(v >> 8) & 255}.${v & 255}.1:80`;
    lines.push(`-A -t ${vip} -s wlc`);
    for (const r of reals.slice(v * perVirtual, (v + 1) * perVirtual)) lines.push(`-a -t ${vip} -r ${r.ip}:${r.port} -m -w 1`);
  }
  const r = runFakeIpvsadm({ args: ['-R'], env: { FAKE_IPVSADM_STATE: statePath }, stdin: `${lines.join('\n')}\n` });
  if (r.exitCode !== 0) throw new Error(r.stderr);
}

async function side(which, second, { count, perVirtual, hungShare }) {
  const reals = realAddresses(count, { second });
  const hung = reals.map((_, i) => i).filter((i) => i % Math.round(1 / hungShare) === 0);
  const servers = await startServers(reals, 'tcp', hung);
  const daemon = startDaemon(generateConfig(reals, { perVirtual, check: 'connect', interval: INTERVAL, timeout: TIMEOUT }), which, {
    beforeStart: (statePath) => prepopulate(statePath, reals, perVirtual),
  });
  return { which, reals, hung, servers, daemon };
}

export async function compareOriginal({
  count = 200,
  perVirtual = 10,
  hungShare = 0.1,
  kills = 10,
  steadyS = 100,
  killWindowS = 120,
  log = () => {},
} = {}) {
  if (!existsSync(ORIGINAL)) throw new Error(`${ORIGINAL} is not installed (Debian package ldirectord)`);
  const sides = [await side('original', 3, { count, perVirtual, hungShare }), await side('ours', 2, { count, perVirtual, hungShare })];
  try {
    const t0 = Date.now();
    // up: every hung real quiesced in the table (both start from all-in, weight 1)
    await Promise.all(
      sides.map(async (s) => {
        await waitFor(
          `${s.which}: hung reals quiesced`,
          () => {
            if (s.daemon.exited) throw new Error(`${s.which} exited; see ${s.daemon.dir}/daemon.log`);
            return s.daemon.zeroCount() >= s.hung.length;
          },
          600_000,
          500,
        );
        s.startupMs = Date.now() - t0;
        log(`  ${s.which}: ${s.hung.length} hung reals out after ${s.startupMs} ms`);
      }),
    );
    const load = loadavg()[0];
    const c0 = sides.map((s) => procStat(s.daemon.pid));
    const from = Date.now();
    await sleep(steadyS * 1000);
    const to = Date.now();
    const c1 = sides.map((s) => procStat(s.daemon.pid));
    for (const [k, s] of sides.entries()) {
      const seen = await s.servers.checks({ from, to, intervalMs: INTERVAL * 1000, slackMs: 500 });
      s.cycle = { median: seen.gapP50, p99: seen.gapP99, max: seen.gapMax };
      s.cpu = (c1[k].cpu - c0[k].cpu) / ((to - from) / 1000);
      s.ipvsadmCpu = (c1[k].childCpu - c0[k].childCpu) / ((to - from) / 1000);
      log(`  ${s.which}: cycle ${JSON.stringify(s.cycle)}`);
    }
    // kills: live reals, at random moments, on both sides alike
    await Promise.all(
      sides.map(async (s) => {
        const live = s.reals.map((_, i) => i).filter((i) => !s.hung.includes(i));
        const victims = new Set();
        while (victims.size < kills) victims.add(live[Math.floor(Math.random() * live.length)]);
        s.killed = [];
        await Promise.all(
          [...victims].map(async (i) => {
            await sleep(Math.random() * killWindowS * 1000);
            const { t } = await s.servers.kill(i, 'refuse');
            s.killed.push({ i, t });
          }),
        );
      }),
    );
    // the original needs up to one cycle (+ its table reads) after the last kill
    const lastCycle = Math.max(...sides.map((s) => s.cycle.max));
    await sleep(lastCycle + 15_000);
    const out = { load, count, hung: sides[0].hung.length, kills, steadyS };
    for (const s of sides) {
      const calls = s.daemon.ipvsadmCalls();
      const lat = s.killed.map(({ i, t }) => {
        const c = changeTime(calls, s.reals[i], t);
        return c === undefined ? undefined : c - t;
      });
      out[s.which] = {
        startupMs: s.startupMs,
        cycle: s.cycle,
        cpu: s.cpu,
        ipvsadmCpu: s.ipvsadmCpu,
        detection: { ...summary(lat), missed: lat.filter((x) => x === undefined).length },
      };
      log(`  ${s.which}: detection ${JSON.stringify(out[s.which].detection)}`);
    }
    out.ratio = {
      cycle: out.original.cycle.median / out.ours.cycle.median,
      detectionMedian: out.original.detection.median / out.ours.detection.median,
      detectionMax: out.original.detection.max / out.ours.detection.max,
    };
    return out;
  } finally {
    for (const s of sides) {
      await s.daemon.stop();
      await s.servers.close();
      if (!process.env.BENCH_KEEP) s.daemon.cleanup();
    }
  }
}

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.error(
    `load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const r = await compareOriginal({
    count: Number(arg('reals', 200)),
    kills: Number(arg('kills', 10)),
    steadyS: Number(arg('steady', 100)),
    log: (m) => console.error(m),
  });
  console.log(JSON.stringify({ node: process.version, at: new Date().toISOString(), ...r }, null, 1));
}
