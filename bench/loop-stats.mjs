// Preloaded into the measured daemon (`node --import bench/loop-stats.mjs bin/ldirectord
// ...`): event-loop delay and memory, seen from inside, without touching the product.
// On SIGUSR2 (which ldirectord ignores) it writes what it saw since the previous SIGUSR2
// to $BENCH_LOOP_STATS and starts afresh.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

// The histogram holds the time between samples, sampling period included: subtract it.
const RESOLUTION_MS = 10;
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
      }),
    );
  }
  histogram.reset();
});
