// What the daemon's RSS is made of, through its life at N connect reals: /proc/<pid>/smaps
// read every 50 ms and each mapping's resident size put in one of five parts:
//   file   node's binary and the shared libraries (their pages that were touched)
//   v8     anonymous 256 KiB mappings: V8's heap pages
//   brk    [heap]: malloc's main arena
//   big    other anonymous mappings of 1 MiB and more: malloc's thread arenas, V8's
//          large objects
//   small  the rest (stacks, small mappings)
// Phases: start-up until every real is up, a steady window (--steady seconds), one reload
// (SIGHUP, one weight changed) and 15 s after it. For each phase: the sample of the highest
// total and its parts, and the parts' medians; and the kernel's high-water mark (VmHWM) at
// the end of each phase, which no 50 ms sample can miss. A process that only waits (`node -e`
// with a timer) is measured first: what any node costs.
// Usage: node bench/rss-parts.mjs [--reals 10000] [--steady 70] [--second 154] [--series <file>]
// (--series: every sample, with its time in ms since the daemon was started, as JSON)
// BENCH_NICE and BENCH_DAEMON_NODE_ARGS as in daemon-harness.mjs; the environment (e.g.
// MALLOC_ARENA_MAX) reaches the daemon.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { arg, generateConfig, realAddresses, sleep, startDaemon, startServers, stopAll, summary, waitAllUp } from './daemon-harness.mjs';

const PARTS = ['file', 'v8', 'brk', 'big', 'small'];
const MAPPING = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/;

/** Resident MB per part of one process, from its smaps. */
export function rssParts(pid) {
  const parts = Object.fromEntries(PARTS.map((p) => [p, 0]));
  let part = 'small';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = MAPPING.exec(line);
    if (m) {
      const kib = (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1024;
      const name = m[3];
      if (name.startsWith('/')) part = 'file';
      else if (name === '[heap]') part = 'brk';
      else if (name !== '') part = 'small';
      else part = kib === 256 ? 'v8' : kib >= 1024 ? 'big' : 'small';
    } else if (line.startsWith('Rss:')) {
      parts[part] += Number(line.split(/\s+/)[1]) / 1024;
    }
  }
  return parts;
}

const total = (p) => PARTS.reduce((s, k) => s + p[k], 0);
/** The highest RSS the process has had so far, MB. */
const highWater = (pid) => r1(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
const r1 = (x) => Math.round(x * 10) / 10;
const median = (xs) => summary(xs).median;

function phaseSummary(samples) {
  if (samples.length === 0) return undefined;
  const highest = samples.reduce((a, b) => (total(b) > total(a) ? b : a));
  return {
    samples: samples.length,
    highest: { total: r1(total(highest)), atMs: highest.atMs, ...Object.fromEntries(PARTS.map((k) => [k, r1(highest[k])])) },
    median: { total: r1(median(samples.map(total))), ...Object.fromEntries(PARTS.map((k) => [k, r1(median(samples.map((s) => s[k])))])) },
  };
}

async function idleNode() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    await sleep(1500);
    const p = rssParts(child.pid);
    return { total: r1(total(p)), ...Object.fromEntries(PARTS.map((k) => [k, r1(p[k])])) };
  } finally {
    child.kill();
  }
}

async function main() {
  const count = Number(arg('reals', 10_000));
  const steadyS = Number(arg('steady', 70));
  const reals = realAddresses(count, { second: Number(arg('second', 154)), third: 0 });
  const out = { node: process.version, at: new Date().toISOString(), load: loadavg()[0], reals: count, idleNode: await idleNode() };
  const servers = await startServers(reals, 'tcp');
  const text = generateConfig(reals, { perVirtual: 10, check: 'connect', interval: 5, timeout: 3 });
  const daemon = startDaemon(text);
  const phases = { start: [], steady: [], reload: [] };
  let phase = phases.start;
  const startedAt = Date.now();
  const vmHWM = {};
  const timer = setInterval(() => {
    try {
      phase.push({ ...rssParts(daemon.pid), atMs: Date.now() - startedAt });
    } catch {
      /* gone */
    }
  }, 50);
  try {
    await waitAllUp(daemon, count, 180_000, 250);
    vmHWM.start = highWater(daemon.pid);
    phase = phases.steady;
    await sleep(steadyS * 1000);
    vmHWM.steady = highWater(daemon.pid);
    phase = phases.reload;
    writeFileSync(join(daemon.dir, 'bench.cf'), text.replace(/( masq )1\n/, '$12\n'));
    process.kill(daemon.pid, 'SIGHUP');
    await sleep(15_000);
    vmHWM.reload = highWater(daemon.pid);
  } finally {
    clearInterval(timer);
    await stopAll(daemon, servers);
  }
  const seriesFile = arg('series', '');
  if (seriesFile) writeFileSync(seriesFile, JSON.stringify(phases));
  out.vmHWM = vmHWM;
  out.phases = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, phaseSummary(v)]));
  console.log(JSON.stringify(out, null, 1));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
