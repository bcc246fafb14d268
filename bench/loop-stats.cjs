// Preloaded into the measured daemon (`node --require bench/loop-stats.cjs bin/ldirectord
// ...`): event-loop delay and memory, seen from inside, without touching the product.
// CommonJS and --require, as the product is: an ES module preload (--import) would start
// Node's ESM loader in the daemon, about 2 MB of RSS the installed daemon does not have.
// On SIGUSR2 (which ldirectord ignores) it writes what it saw since the previous SIGUSR2
// to $BENCH_LOOP_STATS and starts afresh.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { readFileSync, writeFileSync } = require('node:fs');

// The histogram holds the time between samples, sampling period included: subtract it.
const RESOLUTION_MS = Number(process.env.BENCH_LOOP_RESOLUTION_MS ?? 10);
const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();
const ms = (ns) => Number(Math.max(0, ns / 1e6 - RESOLUTION_MS).toFixed(2));
process.on('SIGUSR2', () => {
  const out = process.env.BENCH_LOOP_STATS;
  if (out) {
    const m = process.memoryUsage();
    writeFileSync(
      out,
      JSON.stringify({
        t: Date.now(),
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        mean: ms(histogram.mean),
        rssMB: Math.round(m.rss / 1048576),
        heapUsedMB: Math.round(m.heapUsed / 1048576),
        heapTotalMB: Math.round(m.heapTotal / 1048576),
        externalMB: Math.round(m.external / 1048576),
        arrayBuffersMB: Math.round(m.arrayBuffers / 1048576),
      }),
    );
  }
  histogram.reset();
});

// The peak over the whole life, the stop included, which /proc cannot give once the process
// is gone: written to $BENCH_LOOP_STATS.exit as the process exits.
process.on('exit', () => {
  const out = process.env.BENCH_LOOP_STATS;
  if (!out) return;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    writeFileSync(`${out}.exit`, JSON.stringify({ t: Date.now(), peakRssMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 }));
  } catch {
    /* nothing to report */
  }
});
