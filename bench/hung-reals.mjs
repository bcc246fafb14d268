// The daemon when many reals time out: N connect reals, H of them on listeners that never
// answer a SYN (bench/hung-listeners.py), so each of their checks lives for the whole
// checktimeout and what it allocates reaches the old generation. Over a window after
// start-up it reports the daemon's CPU (cores), its RSS and peak, and from V8's own trace
// (--trace-gc-nvp, added to the daemon's options) the scavenges, what they promoted and
// the full GCs: what the old generation's growth factor (lib/app/run-daemon.ts) costs here.
// Compare two builds with BENCH_BIN (daemon-harness.mjs), runs alternating.
// Usage: node bench/hung-reals.mjs [--reals 4000] [--hung 2000] [--warm 30] [--window 30]
//        [--second 157 (reals on 127.<second>.x.y)]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { arg, generateConfig, procStat, realAddresses, sleep, startDaemon, startServers, stopAll } from './daemon-harness.mjs';

const count = Number(arg('reals', 4000));
const hungCount = Number(arg('hung', 2000));
const warmS = Number(arg('warm', 30));
const windowS = Number(arg('window', 30));
const second = Number(arg('second', 157));

process.env.BENCH_DAEMON_NODE_ARGS = `${process.env.BENCH_DAEMON_NODE_ARGS ?? ''} --trace-gc-nvp`.trim();

const reals = realAddresses(count, { second });
// every other real hangs, so that every virtual has both kinds
const hung = Array.from({ length: Math.min(hungCount, count) }, (_, i) => (i * 2) % count);
const servers = await startServers(reals, 'tcp', hung);
const daemon = startDaemon(generateConfig(reals, { perVirtual: 10, check: 'connect', interval: 5, timeout: 3 }));
try {
  await sleep(warmS * 1000);
  const s0 = procStat(daemon.pid);
  const t0 = Date.now();
  await sleep(windowS * 1000);
  const s1 = procStat(daemon.pid);
  const wall = (Date.now() - t0) / 1000;
  // V8's trace times are ms since the isolate started: the window is [warm, warm + window].
  const gcs = readFileSync(join(daemon.dir, 'daemon.log'), 'utf8')
    .split('\n')
    .map((line) => {
      const at = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: /.exec(line);
      if (!at || !/ gc=\S+/.test(line)) return undefined;
      const kv = Object.fromEntries(
        line
          .split(/\s+/)
          .map((p) => p.split('='))
          .filter((p) => p.length === 2),
      );
      return { ms: Number(at[1]), kv };
    })
    .filter((g) => g !== undefined && g.ms >= warmS * 1000 && g.ms < (warmS + windowS) * 1000);
  const scavenges = gcs.filter((g) => g.kv.gc === 's');
  const full = gcs.filter((g) => g.kv.gc !== 's');
  const sum = (xs, k) => xs.reduce((n, g) => n + Number(g.kv[k] ?? 0), 0);
  console.log(
    JSON.stringify({
      reals: count,
      hung: hung.length,
      load: loadavg()[0],
      cpuCores: Math.round(((s1.cpu - s0.cpu) / wall) * 1000) / 1000,
      rssMB: Math.round(s1.rssMB * 10) / 10,
      peakMB: Math.round(s1.peakRssMB * 10) / 10,
      scavenges: scavenges.length,
      scavengePauseMs: Math.round(sum(scavenges, 'pause')),
      promotedMBps: Math.round((sum(scavenges, 'promoted') / 1048576 / windowS) * 100) / 100,
      fullGCs: full.length,
      fullGCPauseMs: Math.round(sum(full, 'pause')),
    }),
  );
} finally {
  await stopAll(daemon, servers);
}
